#!/usr/bin/python3
"""Memory benchmark: the peak resident memory of inference and of training
for every example network, cnnc's model.so next to Debian's PyTorch
1.13, each measured in a process of its own.

  /usr/bin/python3 bench/memory.py [--cnnc build/bin/cnnc] [--threads 2]
        [--networks fashion_cnn,resnet18]

Each figure is what one call adds to the process at its peak (VmHWM after
the call minus VmRSS before it, with the high-water mark reset just before:
/proc/self/clear_refs), after the model is built and its weights are loaded:
activations, gradients, workspaces and, for cnnc, the packed filters made on
the first call. The weights themselves are listed apart (parameters x 4
bytes; both hold one copy, cnnc a second, packed, for inference). The
"released" column is cnnc after cnnc_release_params (an inference-only
context: the packed copy replaces the state_dict one): what the release
changed in the resident set plus what the call then adds at its peak, the
same measure as PyTorch's column. Training is two SGD steps with momentum:
the second step's peak holds the momentum buffers made by the first, the
gradients and the activations at once, as every later step of a training
run does (one step alone would miss that PyTorch frees its activations
before it makes the momentum buffers). Batch 1 and 16 (64 for inputs of at
most 32x32) for inference, 8 (64) for training, as in bench/inference.py
and bench/training.py. The heap's free memory is handed back to the kernel
before each measurement (malloc_trim), for both.
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


def trim_heap():
    """Hands the heap's free memory back to the kernel (glibc's malloc_trim),
    so that what the setup freed (PyTorch's tensors, file buffers) does not
    count for or against the measured call."""
    import ctypes
    ctypes.CDLL("libc.so.6").malloc_trim(0)


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
    released = 0
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
        if mode == "released":
            trim_heap()
            before = status("VmRSS")
            model.release_params()
            released = status("VmRSS") - before
        if mode in ("inference", "released"):
            run = model.runner(images)
        else:
            labels = np.zeros(batch, np.int32)
            hyper = model.hyperparams(optimizer=SGD, learning_rate=0.01, momentum=0.9, seed=1)

            def run():
                for _ in range(2):
                    model.train_step([images], labels, hyper)
    elif mode in ("inference", "released"):
        reference.eval()

        def run():
            with torch.no_grad():
                reference(x)
    else:
        reference.train()
        y = torch.zeros(batch, dtype=torch.long)
        optimizer = torch.optim.SGD(reference.parameters(), lr=0.01, momentum=0.9)

        def run():
            for _ in range(2):
                optimizer.zero_grad(set_to_none=True)
                out = reference(x)
                F.cross_entropy(out[0] if isinstance(out, tuple) else out, y).backward()
                optimizer.step()
    trim_heap()
    print(json.dumps({"bytes": measure(run) + released}))


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
    print("| network | weights MB | mode | batch | cnnc MB | cnnc released MB | PyTorch 1.13 MB "
          "| cnnc / PyTorch | released / PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for file, network, build, shape in EXAMPLES:
        if only and network not in only:
            continue
        weights = sum(p.numel() for p in build().parameters()) * 4 / MB
        large = shape[1] > 64
        for mode, batch in [("inference", 1), ("inference", 16 if large else 64),
                            ("training", 8 if large else 64)]:
            ours, theirs = peak("cnnc", network, mode, batch), peak("torch", network, mode, batch)
            if mode == "inference":
                light = peak("cnnc", network, "released", batch)
                light_text, light_ratio = f"{light:.1f}", f"{light / max(theirs, 0.1):.2f}"
            else:
                light_text = light_ratio = "-"
            print(f"| {network} | {weights:.1f} | {mode} | {batch} | {ours:.1f} | {light_text} | "
                  f"{theirs:.1f} | {ours / max(theirs, 0.1):.2f} | {light_ratio} |", flush=True)


if __name__ == "__main__":
    main()
