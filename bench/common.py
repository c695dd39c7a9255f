"""What the Python benchmarks share: their command line, and this CPU's fp32
peak measured with bench/fma_peak.c on the benchmark's threads."""
import argparse
import os
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timed(fn, seconds, calls=3):
    """(median, best) seconds per call of fn over about `seconds` and at
    least `calls` calls, after one warm-up call."""
    fn()
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < calls:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], times[0]


def measure_peak(work, threads):
    exe = os.path.join(work, "fma_peak")
    subprocess.run(["cc", "-O3", "-march=native", os.path.join(HERE, "fma_peak.c"), "-o", exe,
                    "-lpthread"], check=True)
    return max(float(subprocess.run([exe, str(threads)], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(3))


def setup(seconds):
    """Parses --cnnc --threads --networks --seconds --rounds --no-peers
    --no-compile, sets torch's
    threads, measures the peak (the best of several runs: another process
    can only lower it). Returns (args, networks to run or empty for all,
    work folder, peak GFLOP/s)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnc", default=os.path.join(ROOT, "build", "bin", "cnnc"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--networks", default="")
    ap.add_argument("--seconds", type=float, default=seconds)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-peers", action="store_true",
                    help="only Debian's PyTorch, not the PyPI peers of build/bench-venv")
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    args = ap.parse_args()
    import torch  # the benchmark's own PyTorch (Debian's), not the peers'
    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="cnnc-bench-")
    return args, set(args.networks.split(",")) - {""}, work, measure_peak(work, args.threads)


def report_peak_again(work, threads, peak):
    again = measure_peak(work, threads)
    print(f"\nfp32 peak measured again at the end: {again:.1f} GFLOP/s"
          + (" (higher: the machine was busy at the start; recompute the shares)"
             if again > 1.1 * peak else ""))
