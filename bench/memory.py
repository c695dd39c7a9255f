#!/usr/bin/python3
"""Memory benchmark: the peak resident memory of inference and of a training
step for every example network, cnnc's model.so next to Debian's PyTorch
1.13, each measured in a process of its own.

  /usr/bin/python3 bench/memory.py [--cnnc build/bin/cnnc] [--threads 2]
        [--networks fashion_cnn,resnet18]

Each figure is what one call adds to the process at its peak (VmHWM after
the call minus VmRSS before it, with the high-water mark reset just before:
/proc/self/clear_refs), after the model is built and its weights are loaded:
activations, gradients, workspaces and, for cnnc, the packed filters made on
the first call. The weights themselves are listed apart (parameters x 4
bytes; both hold one copy, cnnc a second, packed, for inference). Training
is one SGD step with momentum (its buffers included). Batch 1 and 16 (64 for
inputs of at most 32x32) for inference, 8 (64) for training, as in
bench/inference.py and bench/training.py.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "conformance"))

MB = 1 << 20


def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def measure(call):
    """Bytes that `call` adds at its peak to the resident set."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current VmRSS
    before = status("VmRSS")
    call()
    return status("VmHWM") - before


def child(impl, network, mode, batch, cnnc, threads, work):
    """Runs in its own process; prints the bytes as JSON."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from cnnc_model import SGD, Model, compile_model, state_dict_arrays, write_safetensors
    from torch_models import EXAMPLES
    torch.set_num_threads(threads)
    file, _, build, shape = next(e for e in EXAMPLES if e[1] == network)
    torch.manual_seed(0)
    reference = build()
    x = torch.randn(batch, *shape)
    if impl == "cnnc":
        lib = os.path.join(work, network + ".so")
        if not os.path.exists(lib):
            compile_model(cnnc, os.path.join(ROOT, "examples", file), lib, network)
        weights = os.path.join(work, network + ".safetensors")
        write_safetensors(weights, state_dict_arrays(reference))
        del reference
        model = Model(lib)
        model.set_threads(threads)
        model.load(weights)
        images = x.numpy()
        if mode == "inference":
            run = model.runner(images)
        else:
            labels = np.zeros(batch, np.int32)
            hyper = model.hyperparams(optimizer=SGD, learning_rate=0.01, momentum=0.9, seed=1)

            def run():
                model.train_step([images], labels, hyper)
    elif mode == "inference":
        reference.eval()

        def run():
            with torch.no_grad():
                reference(x)
    else:
        reference.train()
        y = torch.zeros(batch, dtype=torch.long)
        optimizer = torch.optim.SGD(reference.parameters(), lr=0.01, momentum=0.9)

        def run():
            optimizer.zero_grad(set_to_none=True)
            out = reference(x)
            F.cross_entropy(out[0] if isinstance(out, tuple) else out, y).backward()
            optimizer.step()
    print(json.dumps({"bytes": measure(run)}))


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnc", default=os.path.join(ROOT, "build", "bin", "cnnc"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--networks", default="")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        impl, network, mode, batch = args.child
        child(impl, network, mode, int(batch), args.cnnc, args.threads, args.work)
        return
    from torch_models import EXAMPLES
    only = set(args.networks.split(",")) - {""}
    work = tempfile.mkdtemp(prefix="cnnc-memory-")

    def peak(impl, network, mode, batch):
        out = subprocess.run([sys.executable, __file__, "--cnnc", args.cnnc, "--threads",
                              str(args.threads), "--work", work, "--child", impl, network, mode,
                              str(batch)], check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])["bytes"] / MB

    print("MB a call adds at its peak (weights apart), each in a process of its own\n")
    print("| network | weights MB | mode | batch | cnnc MB | PyTorch 1.13 MB | cnnc / PyTorch |")
    print("|---|---|---|---|---|---|---|")
    for file, network, build, shape in EXAMPLES:
        if only and network not in only:
            continue
        weights = sum(p.numel() for p in build().parameters()) * 4 / MB
        large = shape[1] > 64
        for mode, batch in [("inference", 1), ("inference", 16 if large else 64),
                            ("training", 8 if large else 64)]:
            ours, theirs = peak("cnnc", network, mode, batch), peak("torch", network, mode, batch)
            print(f"| {network} | {weights:.1f} | {mode} | {batch} | {ours:.1f} | {theirs:.1f} | "
                  f"{ours / max(theirs, 0.1):.2f} |", flush=True)


if __name__ == "__main__":
    main()
