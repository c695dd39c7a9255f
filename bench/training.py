#!/usr/bin/python3
"""Training benchmark: one training step (forward in training mode, softmax
cross-entropy, backward, SGD with momentum 0.9 and weight decay 5e-4) of
every example network, cnnc's model.so next to its peers on the same CPU, in
the same run, from the same weights, with the same batch and threads:
Debian's PyTorch 1.13 in this process, PyTorch 2.x eager and torch.compile
from build/bench-venv (bash scripts/bench-setup.sh; skipped without it).

  /usr/bin/python3 bench/training.py [--cnnc build/bin/cnnc] [--threads 2]
        [--networks fashion_cnn,resnet18] [--seconds 6] [--rounds 3]
        [--no-peers] [--no-compile]

Batch 64 for inputs of at most 32x32, 8 for the 224x224 ones (PERF-NOTES's
ResNet-18 training figure). Rounds alternate all implementations (drifts of
a shared machine hit all); the table gives medians: images/s of each,
cnnc's speedup over the fastest peer and over PyTorch 1.13 (their time /
ours) and our GFLOP/s counted as 3 x the forward
pass (2 x MACs from cnnc's report: forward, data gradient, weight gradient)
with its share of this CPU's fp32 peak (bench/fma_peak.c on the same
threads). PyTorch computes the loss of the main output only, as cnnc does
(GoogLeNet's auxiliary heads run but get no gradient in either).
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "conformance"))
from cnnc_model import SGD, Model, compile_model, state_dict_arrays, write_safetensors  # noqa
import common  # noqa: E402
from peers import Peers  # noqa: E402
from torch_models import EXAMPLES  # noqa: E402

PEERS = ["PyTorch 2.x", "torch.compile"]

LR, MOMENTUM, DECAY = 0.01, 0.9, 5e-4


def main():
    args, only, work, peak = common.setup(seconds=6.0)
    peers = Peers(args.threads, enabled=not args.no_peers)
    print(f"fp32 peak measured with {args.threads} threads: {peak:.1f} GFLOP/s; "
          f"Debian's torch {torch.__version__}, {torch.get_num_threads()} threads; SGD lr {LR}, "
          f"momentum {MOMENTUM}, weight decay {DECAY}; {peers.note}\n")
    print("| network | batch | cnnc img/s | PyTorch 1.13 img/s | "
          + " | ".join(f"{p} img/s" for p in PEERS) + " | fastest peer | cnnc vs fastest | "
          "cnnc vs PyTorch 1.13 | cnnc GFLOP/s | % of peak |")
    print("|---" * (9 + len(PEERS)) + "|")
    notes = []
    for file, network, build, shape in EXAMPLES:
        if only and network not in only:
            continue
        source = os.path.join(ROOT, "examples", file)
        report = json.loads(subprocess.run(
            [args.cnnc, source, "--network", network, "--report-format=json"], check=True,
            capture_output=True, text=True).stdout)
        macs = report["totals"]["macs"]
        lib = compile_model(args.cnnc, source, os.path.join(work, network + ".so"), network)
        torch.manual_seed(0)
        reference = build().train()
        weights = os.path.join(work, network + ".safetensors")
        write_safetensors(weights, state_dict_arrays(reference))
        ours = Model(lib)
        ours.set_threads(args.threads)
        ours.load(weights)
        batch = 8 if shape[1] > 64 else 64
        classes = ours.outputs()[0][1][0]
        x = torch.randn(batch, *shape)
        y = torch.randint(0, classes, (batch,))
        images, labels = x.numpy(), y.numpy().astype(np.int32)
        hyper = ours.hyperparams(optimizer=SGD, learning_rate=LR, momentum=MOMENTUM,
                                 weight_decay=DECAY, seed=1)
        optimizer = torch.optim.SGD(reference.parameters(), lr=LR, momentum=MOMENTUM,
                                    weight_decay=DECAY)

        def mine():
            ours.train_step([images], labels, hyper)

        def theirs():
            optimizer.zero_grad(set_to_none=True)
            out = reference(x)
            logits = out[0] if isinstance(out, tuple) else out
            F.cross_entropy(logits, y).backward()
            optimizer.step()
        names = peers.load(network=network, weights=weights, shape=list(shape), batch=batch,
                           training=True, classes=classes, lr=LR, momentum=MOMENTUM,
                           weight_decay=DECAY, compile=not args.no_compile)
        if peers.skipped:
            notes.append(f"{network}: " + ", ".join(f"{p} skipped ({why})"
                                                    for p, why in peers.skipped.items()))
        mine()  # warm-up: allocations, first-touch, momentum buffers
        theirs()
        times = {"cnnc": [], "PyTorch 1.13": [], **{p: [] for p in names}}
        share = args.seconds / args.rounds / (2 + len(names)) * 2
        for _ in range(args.rounds):
            times["cnnc"].append(common.timed(mine, share, calls=2)[0])
            times["PyTorch 1.13"].append(common.timed(theirs, share, calls=2)[0])
            for p in names:
                times[p].append(peers.time(p, share, calls=2)[0])
        t = {k: float(np.median(v)) for k, v in times.items()}
        fastest = min((k for k in t if k != "cnnc"), key=t.get)
        gflops = 3 * 2 * macs * batch / t["cnnc"] * 1e-9
        cells = [f"{batch / t[p]:.1f}" if p in t else "-" for p in PEERS]
        print(f"| {network} | {batch} | {batch / t['cnnc']:.1f} | {batch / t['PyTorch 1.13']:.1f} | "
              + " | ".join(cells) + f" | {fastest} | {t[fastest] / t['cnnc']:.2f}x | "
              f"{t['PyTorch 1.13'] / t['cnnc']:.2f}x | {gflops:.1f} | {100 * gflops / peak:.0f} % |",
              flush=True)
        del ours, reference, optimizer
    peers.close()
    for n in notes:
        print(f"- {n}")
    common.report_peak_again(work, args.threads, peak)


if __name__ == "__main__":
    main()
