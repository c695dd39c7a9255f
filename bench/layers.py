#!/usr/bin/python3
"""Per-layer comparison with ONNX Runtime: where cnnc loses time against the
strongest CPU peer, conv by conv.

  /usr/bin/python3 bench/layers.py [--network resnet18] [--batch 1] [--threads 2]
        [--seconds 3]

cnnc's side is `CNNC_PROFILE=1 cnnrun bench` (milliseconds per generated step,
each step naming the layers fused into it); ONNX Runtime's is its own
profiler (enable_profiling: microseconds per node run, warm-up calls left out) on
the model exported by PyTorch 2.x, run in build/bench-venv (bash
scripts/bench-setup.sh). Prints the time by kind of step on each side and
the conv steps of both in the order they run (the two fuse differently, so
the rows line up by order, not by name: read them as a guide).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from peers import VENV_PYTHON  # noqa: E402

# Run in build/bench-venv: export, profile, print {layer: microseconds}.
ORT_SIDE = r"""
import json, os, sys
import numpy as np, torch, onnxruntime as ort
sys.path.insert(0, sys.argv[1])
from torch_models import EXAMPLES
network, batch, threads, runs, work = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
torch.set_num_threads(threads)
_, _, build, shape = next(e for e in EXAMPLES if e[1] == network)
torch.manual_seed(0)
model = build().eval()
path = os.path.join(work, network + ".onnx")
torch.onnx.export(model, torch.randn(1, *shape), path, opset_version=13, dynamo=False,
                  input_names=["input"], dynamic_axes={"input": {0: "n"}})
options = ort.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
options.enable_profiling = True
options.profile_file_prefix = os.path.join(work, "ort")
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
x = np.random.RandomState(0).randn(batch, *shape).astype(np.float32)
warmup = 3
for _ in range(warmup + runs):
    session.run(None, {"input": x})
times, kinds = {}, {}
for e in json.load(open(session.end_profiling())):
    if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
        node = e["name"][: -len("_kernel_time")]
        times.setdefault(node, []).append(e["dur"])
        kinds[node] = e.get("args", {}).get("op_name", "?")
# The warm-up calls are in the profile too: keep each node's last `runs`.
print(json.dumps({node: [kinds[node], sum(t[warmup:]) / runs] for node, t in times.items()}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnnc", default=os.path.join(ROOT, "build", "bin", "cnnc"))
    ap.add_argument("--cnnrun", default=os.path.join(ROOT, "build", "bin", "cnnrun"))
    ap.add_argument("--network", default="resnet18")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3)
    args = ap.parse_args()
    if not os.path.exists(VENV_PYTHON):
        sys.exit("bench/layers.py needs build/bench-venv: bash scripts/bench-setup.sh")
    sys.path.insert(0, os.path.join(ROOT, "test", "conformance"))
    from torch_models import EXAMPLES
    file = next(e[0] for e in EXAMPLES if e[1] == args.network)
    work = tempfile.mkdtemp(prefix="cnnc-layers-")
    lib = os.path.join(work, args.network + ".so")
    subprocess.run([args.cnnc, os.path.join(ROOT, "examples", file), "--network", args.network,
                    "-o", lib], check=True)
    profile = subprocess.run(
        [args.cnnrun, "bench", lib, "--batch", str(args.batch), "--seconds", str(args.seconds),
         "--threads", str(args.threads)], env=dict(os.environ, CNNC_PROFILE="1"), check=True,
        capture_output=True, text=True).stderr
    ours = []  # (kind, layers, ms) in step order
    for line in profile.splitlines():
        m = re.match(r"\s+([0-9.]+) ms\s+[0-9.]+ %\s+cnnc_(\S+?)_[0-9]+\s+\[([^\]]+)\]", line)
        if m:
            ours.append((m.group(2), m.group(3), float(m.group(1))))
    runs = max(10, int(args.seconds * 20 / max(args.batch, 1)))
    theirs = json.loads(subprocess.run(
        [VENV_PYTHON, "-c", ORT_SIDE, os.path.join(ROOT, "test", "conformance"), args.network,
         str(args.batch), str(args.threads), str(runs), work], check=True, capture_output=True,
        text=True).stdout.strip().splitlines()[-1])
    print(f"{args.network}, batch {args.batch}, {args.threads} threads, ms per call\n")
    print("| cnnc step kind | cnnc ms | ONNX Runtime op | ONNX Runtime ms |")
    print("|---|---|---|---|")
    by_ours, by_theirs = {}, {}
    for kind, _, ms in ours:
        by_ours[kind] = by_ours.get(kind, 0) + ms
    for op, us in theirs.values():
        by_theirs[op] = by_theirs.get(op, 0) + us / 1000
    a, b = sorted(by_ours.items(), key=lambda kv: -kv[1]), sorted(by_theirs.items(),
                                                                  key=lambda kv: -kv[1])
    for i in range(max(len(a), len(b))):
        left = f"{a[i][0]} | {a[i][1]:.3f}" if i < len(a) else " | "
        right = f"{b[i][0]} | {b[i][1]:.3f}" if i < len(b) else " | "
        print(f"| {left} | {right} |")
    print(f"| all | {sum(by_ours.values()):.3f} | all | {sum(by_theirs.values()):.3f} |")
    print("\nThe conv steps of both, in the order they run (ONNX Runtime's nodes are named"
          " after their last fused op's output):\n")
    print("| cnnc step | ms | ONNX Runtime node | ms |")
    print("|---|---|---|---|")
    convs = [(layers, ms) for kind, layers, ms in ours if kind == "conv"]
    nodes = [(n, us / 1000) for n, (op, us) in theirs.items() if "Conv" in op]
    for i in range(max(len(convs), len(nodes))):
        left = f"{convs[i][0]} | {convs[i][1]:.3f}" if i < len(convs) else " | "
        right = f"{nodes[i][0]} | {nodes[i][1]:.3f}" if i < len(nodes) else " | "
        print(f"| {left} | {right} |")

if __name__ == "__main__":
    main()
