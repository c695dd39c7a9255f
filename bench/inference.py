#!/usr/bin/python3
"""Inference benchmark: every example network, cnnc's model.so next to
PyTorch on the same CPU, in the same run, with the same weights and threads.

  /usr/bin/python3 bench/inference.py [--cnnc build/bin/cnnc] [--threads 2]
        [--networks fashion_cnn,resnet18] [--seconds 2] [--rounds 3]

For each network: latency at batch 1 and throughput at batch 64 (inputs of
at most 32x32) or 16 (224x224 inputs), as medians over `rounds` rounds in
which ours and PyTorch's alternate (so drifts of a shared machine hit both);
the speedup (PyTorch time / ours); our GFLOP/s (2 x MACs from cnnc's report
/ time) and its share of this CPU's fp32 peak, measured first with
bench/fma_peak.c on the same threads. Prints a Markdown table.
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "conformance"))
import common  # noqa: E402
from cnnc_model import Model, compile_model, state_dict_arrays, write_safetensors  # noqa
from torch_models import EXAMPLES  # noqa: E402


def timed(fn, seconds):
    """Median and best seconds per call of fn over about `seconds`."""
    fn()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 3:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], times[0]


def main():
    # The peak is measured again at the end (see below).
    args, only, work, peak = common.setup(seconds=2.0)
    print(f"fp32 peak measured with {args.threads} threads: {peak:.1f} GFLOP/s; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| network | batch | cnnc ms | PyTorch ms | speedup | cnnc GFLOP/s | % of peak |")
    print("|---|---|---|---|---|---|---|")
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
        ours = Model(lib)
        ours.set_threads(args.threads)
        ours.load(weights)
        large = shape[1] > 64
        for batch in (1, 16 if large else 64):
            x = torch.randn(batch, *shape)
            run = ours.runner(x.numpy())

            def theirs():
                with torch.no_grad():
                    reference(x)
            mine, ref = [], []
            for _ in range(args.rounds):
                mine.append(timed(run, args.seconds / args.rounds))
                ref.append(timed(theirs, args.seconds / args.rounds))
            t_ours = float(np.median([m for m, _ in mine]))
            t_ref = float(np.median([m for m, _ in ref]))
            gflops = 2 * macs * batch / t_ours * 1e-9
            print(f"| {network} | {batch} | {t_ours * 1e3:.3f} | {t_ref * 1e3:.3f} | "
                  f"{t_ref / t_ours:.2f}x | {gflops:.1f} | {100 * gflops / peak:.0f} % |",
                  flush=True)
    common.report_peak_again(work, args.threads, peak)


if __name__ == "__main__":
    main()
