#!/usr/bin/python3
"""Inference benchmark: every example network, cnnc's model.so next to its
peers on the same CPU, in the same run, with the same weights and threads:
Debian's PyTorch 1.13 in this process, and PyTorch 2.x (eager and
torch.compile), ONNX Runtime and OpenVINO (fp32) from build/bench-venv
(bash scripts/bench-setup.sh; skipped with a note without it).

  /usr/bin/python3 bench/inference.py [--cnnc build/bin/cnnc] [--threads 2]
        [--networks fashion_cnn,resnet18] [--seconds 2] [--rounds 3]
        [--no-peers] [--no-compile]

For each network: latency at batch 1 and throughput at batch 64 (inputs of
at most 32x32) or 16 (224x224 inputs), as medians over `rounds` rounds in
which every implementation runs in turn (so drifts of a shared machine hit
all of them); cnnc's speedup over the fastest peer and over PyTorch 1.13
(their time / ours); our GFLOP/s (2 x MACs from cnnc's report / time) and
its share of this CPU's fp32 peak, measured first with bench/fma_peak.c on
the same threads. ONNX Runtime and OpenVINO read the model exported by
torch.onnx (PyTorch 1.13, opset 13). Each peer's output is compared once
with PyTorch 1.13's (the notes after the table). Prints Markdown.
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "conformance"))
import common  # noqa: E402
from cnnc_model import (Model, compile_model, max_relative_error, state_dict_arrays,  # noqa
                        write_safetensors)
from peers import Peers  # noqa: E402
from torch_models import EXAMPLES  # noqa: E402

PEERS = ["PyTorch 2.x", "torch.compile", "ONNX Runtime", "OpenVINO"]


def first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def main():
    # The peak is measured again at the end (see below).
    args, only, work, peak = common.setup(seconds=2.0)
    peers = Peers(args.threads, enabled=not args.no_peers)
    print(f"fp32 peak measured with {args.threads} threads: {peak:.1f} GFLOP/s; "
          f"Debian's torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"{peers.note}\n")
    print("| network | batch | cnnc ms | PyTorch 1.13 ms | " + " | ".join(f"{p} ms" for p in PEERS)
          + " | fastest peer | cnnc vs fastest | cnnc vs PyTorch 1.13 | cnnc GFLOP/s "
          "| % of peak |")
    print("|---" * (9 + len(PEERS)) + "|")
    notes = []
    for file, network, build, shape in EXAMPLES:
        if only and network not in only:
            continue
        report = json.loads(subprocess.run(
            [args.cnnc, os.path.join(ROOT, "examples", file), "--network", network,
             "--report-format=json"], check=True, capture_output=True, text=True).stdout)
        macs = report["totals"]["macs"]
        lib = compile_model(args.cnnc, os.path.join(ROOT, "examples", file),
                            os.path.join(work, network + ".so"), network)
        reference = build().eval()
        weights = os.path.join(work, network + ".safetensors")
        write_safetensors(weights, state_dict_arrays(reference))
        onnx = os.path.join(work, network + ".onnx")
        torch.onnx.export(reference, torch.randn(1, *shape), onnx, opset_version=13,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "n"}, "output": {0: "n"}})
        ours = Model(lib)
        ours.set_threads(args.threads)
        ours.load(weights)
        large = shape[1] > 64
        for batch in (1, 16 if large else 64):
            x = torch.randn(batch, *shape)
            run = ours.runner(x.numpy())
            names = peers.load(network=network, weights=weights, onnx=onnx, shape=list(shape),
                               batch=batch, compile=not args.no_compile)
            with torch.no_grad():
                expected = first(reference(x)).numpy()
            if batch == 1:
                errors = peers.check(x.numpy(), expected, work)
                notes.append(f"{network}: max relative error against PyTorch 1.13: " + ", ".join(
                    [f"cnnc {max_relative_error(ours.forward(x.numpy())[0], expected):.1e}"]
                    + [f"{p} {e:.1e}" for p, e in errors.items()]
                    + [f"{p} skipped ({why})" for p, why in peers.skipped.items()]))

            def theirs():
                with torch.no_grad():
                    reference(x)
            times = {"cnnc": [], "PyTorch 1.13": [], **{p: [] for p in names}}
            for _ in range(args.rounds):
                share = args.seconds / args.rounds
                times["cnnc"].append(common.timed(run, share)[0])
                times["PyTorch 1.13"].append(common.timed(theirs, share)[0])
                for p in names:
                    times[p].append(peers.time(p, share)[0])
            t = {k: float(np.median(v)) for k, v in times.items()}
            fastest = min((k for k in t if k != "cnnc"), key=t.get)
            gflops = 2 * macs * batch / t["cnnc"] * 1e-9
            cells = [f"{t[p] * 1e3:.3f}" if p in t else "-" for p in PEERS]
            print(f"| {network} | {batch} | {t['cnnc'] * 1e3:.3f} | {t['PyTorch 1.13'] * 1e3:.3f} | "
                  + " | ".join(cells) + f" | {fastest} | {t[fastest] / t['cnnc']:.2f}x | "
                  f"{t['PyTorch 1.13'] / t['cnnc']:.2f}x | {gflops:.1f} | "
                  f"{100 * gflops / peak:.0f} % |", flush=True)
    peers.close()
    print()
    for n in notes:
        print(f"- {n}")
    common.report_peak_again(work, args.threads, peak)


if __name__ == "__main__":
    main()
