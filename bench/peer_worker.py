"""The benchmarks' peers that need PyPI packages, in their own process: run
by bench/peers.py with build/bench-venv's python (PyTorch 2.x, torchvision,
ONNX Runtime, OpenVINO), since Debian's PyTorch 1.13 lives in the driver's
process. It reads one JSON command per line on stdin and answers one JSON
line on stdout:

  {"cmd": "setup", "threads": 2}                 -> versions
  {"cmd": "load", "network": N, "weights": W, "onnx": O, "training": false,
   "shape": [C, H, W], "batch": B, "compile": true, "lr": .., ...}
                                                 -> {"peers": [...], "skipped": {peer: why}}
  {"cmd": "check", "input": X.npy, "expected": Y.npy}
                                                 -> {"errors": {peer: max relative error}}
  {"cmd": "time", "peer": P, "seconds": S}       -> {"median": s, "best": s}

Inference peers: PyTorch 2.x eager (no_grad), torch.compile (inductor),
ONNX Runtime (CPU provider) and OpenVINO (CPU, inference precision pinned
to f32: it defaults to bf16 on AMX machines), all on `threads` threads.
Training peers: PyTorch 2.x eager and torch.compile, one SGD step each
(forward in training mode, cross-entropy of the first output, backward,
step), as bench/training.py does with Debian's PyTorch.
"""
import json
import os
import sys
import traceback

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "test", "conformance"))
import common  # noqa: E402
from cnnc_model import max_relative_error, read_safetensors  # noqa: E402
from torch_models import EXAMPLES  # noqa: E402

THREADS = 2
peers = {}  # name -> a callable running one call (inference or training step)
checkers = {}  # inference: name -> a callable of an input tensor, for the sanity check


def build_model(network, weights):
    build = next(b for _, n, b, _ in EXAMPLES if n == network)
    torch.manual_seed(0)
    model = build()
    state = {k: torch.from_numpy(v) for k, v in read_safetensors(weights).items()}
    model.load_state_dict(state, strict=True)
    return model


def first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def load_inference(c, skipped):
    model = build_model(c["network"], c["weights"]).eval()
    x = torch.from_numpy(np.random.RandomState(0).randn(c["batch"], *c["shape"])
                         .astype(np.float32))
    runners = {}

    def eager(inp):
        with torch.no_grad():
            return first(model(inp))
    runners["PyTorch 2.x"] = eager
    if c.get("compile", True):
        try:
            compiled = torch.compile(model)

            def run_compiled(inp):
                with torch.no_grad():
                    return first(compiled(inp))
            run_compiled(x)  # compiles now, not inside the timing
            runners["torch.compile"] = run_compiled
        except Exception as e:  # noqa: BLE001 - a peer that fails is skipped
            skipped["torch.compile"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    try:
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(c["onnx"], options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        runners["ONNX Runtime"] = lambda inp: torch.from_numpy(
            session.run(None, {name: inp.numpy()})[0])
    except Exception as e:  # noqa: BLE001
        skipped["ONNX Runtime"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    try:
        import openvino as ov
        core = ov.Core()
        compiled_ov = core.compile_model(c["onnx"], "CPU", {
            "INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": str(THREADS),
            "PERFORMANCE_HINT": "LATENCY"})
        request = compiled_ov.create_infer_request()

        def run_ov(inp):
            request.infer({0: inp.numpy()})
            return torch.from_numpy(request.get_output_tensor(0).data.copy())
        runners["OpenVINO"] = run_ov
    except Exception as e:  # noqa: BLE001
        skipped["OpenVINO"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    return {name: (lambda run=run: run(x)) for name, run in runners.items()}, runners


def load_training(c, skipped):
    model = build_model(c["network"], c["weights"]).train()
    rs = np.random.RandomState(0)
    x = torch.from_numpy(rs.randn(c["batch"], *c["shape"]).astype(np.float32))
    y = torch.from_numpy(rs.randint(0, c["classes"], (c["batch"],)))
    optimizer = torch.optim.SGD(model.parameters(), lr=c["lr"], momentum=c["momentum"],
                                weight_decay=c["weight_decay"])

    def step_with(forward):
        def step():
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(first(forward(x)), y).backward()
            optimizer.step()
        return step
    steps = {"PyTorch 2.x": step_with(model)}
    if c.get("compile", True):
        try:
            compiled = step_with(torch.compile(model))
            compiled()  # compiles the forward and backward graphs now
            steps["torch.compile"] = compiled
        except Exception as e:  # noqa: BLE001
            skipped["torch.compile"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
    return steps, {}


def handle(c):
    global peers, checkers, THREADS
    if c["cmd"] == "setup":
        THREADS = c["threads"]
        torch.set_num_threads(THREADS)
        versions = {"torch": torch.__version__}
        for module in ("onnxruntime", "openvino"):
            try:
                versions[module] = __import__(module).__version__
            except ImportError as e:
                versions[module] = f"missing ({e})"
        return {"versions": versions}
    if c["cmd"] == "load":
        skipped = {}
        peers, checkers = (load_training if c.get("training") else load_inference)(c, skipped)
        return {"peers": list(peers), "skipped": skipped}
    if c["cmd"] == "check":
        x = torch.from_numpy(np.load(c["input"]))
        expected = np.load(c["expected"])
        return {"errors": {name: max_relative_error(run(x).numpy(), expected)
                           for name, run in checkers.items()}}
    if c["cmd"] == "time":
        median, best = common.timed(peers[c["peer"]], c["seconds"], c.get("calls", 3))
        return {"median": median, "best": best}
    raise ValueError(f"unknown command {c['cmd']}")


def main():
    # Replies go to the real stdout; whatever the libraries print goes to
    # stderr (torch.compile's compiler, OpenVINO's notes).
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    for line in sys.stdin:
        try:
            reply = handle(json.loads(line))
        except Exception as e:  # noqa: BLE001 - reported to the driver, which goes on
            reply = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
