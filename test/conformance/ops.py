# Every operator of the lowering against PyTorch, forward (inference), on
# random inputs and random hyperparameters: strides, per-side paddings,
# dilations, groups, padding modes, ceil mode, odd sizes, batch > 1. Each case
# is a one- or two-layer network compiled by cnnc to a .so and driven through
# its C interface; the same random weights go to torch through a safetensors
# file. Tolerance: max |ours - torch| / max |torch| <= 1e-4 per output.
#
# RUN: rm -rf %t && mkdir -p %t && %python %s %cnnc %t
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from cnnc_model import Model, compile_text, max_relative_error, write_safetensors  # noqa

from op_cases import SEED, cases  # noqa: E402

cnnc, work = sys.argv[1], sys.argv[2]

TOLERANCE = 1e-4


def run(index_and_case):
    i, c = index_and_case
    return compile_text(cnnc, f"network case{i} {{\n  input x: {'x'.join(map(str, c['shape']))}\n"
                        f"  {c['body']}\n}}\n", work, f"case{i}", extra=["-j", "1"])


with ThreadPoolExecutor(2) as pool:
    libraries = list(pool.map(run, enumerate(cases)))

failures = 0
for i, (c, lib) in enumerate(zip(cases, libraries)):
    params = {}
    for name, shape in c["params"].items():
        t = torch.randn(shape)
        if name.endswith("running_var"):
            t = t.abs() + 0.5
        params[name] = t
    weights = os.path.join(work, f"case{i}.safetensors")
    write_safetensors(weights, {k: v.numpy() for k, v in params.items()})
    model = Model(lib)
    model.load(weights)
    x = torch.randn(c["batch"], *c["shape"])
    with torch.no_grad():
        ref = c["forward"](x, params).numpy()
    ours = model.forward(x.numpy())[0]
    if ours.shape != ref.shape:
        print(f"FAIL {c['name']}: shape {ours.shape} != torch {ref.shape}")
        failures += 1
        continue
    err = max_relative_error(ours, ref)
    status = "ok  " if err <= TOLERANCE else "FAIL"
    failures += err > TOLERANCE
    print(f"{status} {c['name']}: batch {c['batch']}, max relative error {err:.2e}")

print(f"{len(cases) - failures} of {len(cases)} cases within {TOLERANCE} (seed {SEED})")
sys.exit(1 if failures else 0)
