#!/usr/bin/env python3
"""GPU benchmark: cnnc's CUDA model.so next to PyTorch with cuDNN on the same
GPU, in the same run (docs/gpu.md). Needs PyTorch with CUDA (not Debian's).

  python3 bench/gpu.py [--cnnc build/bin/cnnc] [--networks resnet18,...]
        [--seconds 1] [--rounds 3] [--compile-only]

For each network: inference latency at batch 1 and time per batch of 64, and
the training step (SGD with momentum, softmax cross-entropy) at batch 64.
cnnc is timed through its C interface with host buffers in and out (the
input crosses the bus, the output comes back); PyTorch eager in fp32 with
TF32 off and cudnn.benchmark on, NCHW and channels_last, its input already
on the device (its best case) and, for inference, also from the host
("PyTorch host I/O"). Medians over `rounds` rounds that alternate the
implementations. The models are compiled here with --target=cuda unless
CNNC_REPLAY names a folder of recorded ones (cnnc_model.py): the GPU
machine need not have cnnc. Prints Markdown.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "conformance"))
from common import timed  # noqa: E402
from cnnc_model import SGD, Model, compile_model  # noqa: E402

NETWORKS = ["fashion_cnn", "resnet18", "resnet50", "vgg16", "googlenet", "mobilenet_v2"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnc", default=os.path.join(ROOT, "build", "bin", "cnnc"))
    ap.add_argument("--networks", default=",".join(NETWORKS))
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--work", help="where the libraries go (default: a new temporary folder)")
    ap.add_argument("--tiles", default="",
                    help="register tiles CxP of the GPU schedule to time besides the default "
                         "(CNNC_GPU_TILE, docs/gpu.md), e.g. 4x4,2x4")
    ap.add_argument("--tile-networks", default="resnet18,resnet50,vgg16",
                    help="the networks the --tiles variants are timed on")
    ap.add_argument("--compile-only", action="store_true",
                    help="compile (and with CNNC_RECORD record) the models, run nothing")
    args = ap.parse_args()
    if not args.work:
        import tempfile
        args.work = tempfile.mkdtemp(prefix="cnnc-gpu-bench-")
    os.makedirs(args.work, exist_ok=True)
    wanted = args.networks.split(",")

    import torch
    from torch_models import EXAMPLES
    examples = {network: (file, build, shape) for file, network, build, shape in EXAMPLES}
    libs = {}
    tiles = [t for t in args.tiles.split(",") if t]
    tile_networks = set(args.tile_networks.split(","))
    for network in wanted:
        file, build, shape = examples[network]
        source = os.path.join(ROOT, "examples", file)
        libs[network] = {"": compile_model(args.cnnc, source,
                                           os.path.join(args.work, network + ".so"), network,
                                           ["--target=cuda"])}
        for tile in tiles if network in tile_networks else []:
            os.environ["CNNC_GPU_TILE"] = tile  # not in the object cache's key: --no-cache
            libs[network][tile] = compile_model(
                args.cnnc, source, os.path.join(args.work, f"{network}-{tile}.so"), network,
                ["--target=cuda", "--no-cache"])
            del os.environ["CNNC_GPU_TILE"]
    if args.compile_only:
        print(f"compiled {len(libs)} models in {args.work}")
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    print(f"{torch.cuda.get_device_name(0)}; PyTorch {torch.__version__}, cuDNN "
          f"{torch.backends.cudnn.version()}; fp32, TF32 off; medians of {args.rounds} "
          f"alternating rounds of about {args.seconds} s\n")
    header = ("| network | measure | cnnc ms | " + "".join(f"cnnc {t} ms | " for t in tiles) +
              "PyTorch ms | PyTorch channels_last ms | PyTorch host I/O ms | "
              "cnnc vs best PyTorch |")
    print(header)
    print("|---" * (7 + len(tiles)) + "|")
    for network in wanted:
        file, build, shape = examples[network]
        variants = {t: Model(lib) for t, lib in libs[network].items()}
        for m in variants.values():
            m.init(1)
        ours = variants[""]
        classes = ours.outputs()[0][1][0]
        torch.manual_seed(0)
        model = build().to(dev)
        model_cl = build().to(dev).to(memory_format=torch.channels_last)
        rows = []
        for measure, batch in (("inference", 1), ("inference", args.batch),
                               ("training step", args.batch)):
            x_host = torch.randn(batch, *shape)
            x_np = x_host.numpy()
            x_dev = x_host.to(dev)
            x_cl = x_dev.contiguous(memory_format=torch.channels_last)
            y_np = np.random.RandomState(0).randint(0, classes, batch).astype(np.int32)
            y_dev = torch.from_numpy(y_np.astype(np.int64)).to(dev)
            fns = {}
            if measure == "inference":
                model.eval()
                model_cl.eval()

                def infer(m, x):
                    with torch.no_grad():
                        out = m(x)
                    torch.cuda.synchronize()
                    return out

                def host_io():
                    with torch.no_grad():
                        out = model(x_host.to(dev))
                    return (out[0] if isinstance(out, tuple) else out).cpu()
                for t, m in variants.items():
                    fns["cnnc" + t] = lambda m=m: m.forward(x_np)
                fns["torch"] = lambda: infer(model, x_dev)
                fns["torch_cl"] = lambda: infer(model_cl, x_cl)
                fns["torch_host"] = host_io
            else:
                hyper = ours.hyperparams(optimizer=SGD, learning_rate=1e-3, momentum=0.9)
                model.train()
                model_cl.train()
                opts = {id(m): torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9)
                        for m in (model, model_cl)}

                def step(m, x):
                    opt = opts[id(m)]
                    opt.zero_grad(set_to_none=True)
                    out = m(x)
                    out = out[0] if isinstance(out, tuple) else out
                    torch.nn.functional.cross_entropy(out, y_dev).backward()
                    opt.step()
                    torch.cuda.synchronize()
                for t, m in variants.items():
                    fns["cnnc" + t] = lambda m=m: m.train_step([x_np], y_np, hyper)
                fns["torch"] = lambda: step(model, x_dev)
                fns["torch_cl"] = lambda: step(model_cl, x_cl)
            times = {k: [] for k in fns}
            for _ in range(args.rounds):
                for k, fn in fns.items():
                    # One call may take longer than the round: at least one.
                    times[k].append(timed(fn, args.seconds, calls=1)[0])
            med = {k: sorted(v)[len(v) // 2] * 1e3 for k, v in times.items()}
            best = min(med["torch"], med["torch_cl"])
            host = f"{med['torch_host']:.2f}" if "torch_host" in med else "-"
            tiled = "".join(f"{med['cnnc' + t]:.2f} | " if "cnnc" + t in med else "- | "
                            for t in tiles)
            rows.append(f"| {network} | {measure} batch {batch} | {med['cnnc']:.2f} | {tiled}"
                        f"{med['torch']:.2f} | {med['torch_cl']:.2f} | {host} | "
                        f"{best / med['cnnc']:.2f}x |")
            print(rows[-1], flush=True)
        del ours, variants
    return 0


if __name__ == "__main__":
    sys.exit(main())
