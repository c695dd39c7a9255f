# End to end: every example network compiled by cnnc gives PyTorch's outputs
# on the same random weights. The weights are torch's own initialization
# with randomized batchnorm statistics, exported from the torch model's
# state_dict (num_batches_tracked included) to safetensors and loaded into
# model.so unrenamed. Batch 2, inference mode, at the input size
# torch_models.checked_input gives (the file's, or 112x112 for the deepest). Tolerance: max |ours - torch|
# / max |torch| <= 1e-4 per output. GoogLeNet: torch computes the auxiliary
# classifiers only in training mode (and with an adaptive pool), so its
# logits are compared.
#
# RUN: rm -rf %t && mkdir -p %t && %python %s %cnnc %examples %t
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from cnnc_model import (Model, compile_model, max_relative_error,  # noqa: E402
                        state_dict_arrays, write_safetensors)
from torch_models import (EXAMPLES, checked_input,  # noqa: E402
                          randomize_batchnorm)

cnnc, examples, work = sys.argv[1:4]
only = set(os.environ.get("CNNC_NETWORKS", "").split(",")) - {""}
torch.manual_seed(0)
torch.set_num_threads(2)
TOLERANCE = 1e-4
failures = 0

for file, network, build, shape in EXAMPLES:
    if only and network not in only:
        continue
    shape, extra = checked_input(network, shape)
    lib = compile_model(cnnc, f"{examples}/{file}", f"{work}/{network}.so", network, extra)
    model = build().eval()
    randomize_batchnorm(model)
    weights = f"{work}/{network}.safetensors"
    write_safetensors(weights, state_dict_arrays(model))
    ours_model = Model(lib)
    ours_model.load(weights)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        ref = model(x)
    refs = [ref] if isinstance(ref, torch.Tensor) else list(ref)
    ours = ours_model.forward(x.numpy())
    for i, r in enumerate(refs[:1] if network == "googlenet" else refs):
        r = r.numpy()
        err = max_relative_error(ours[i], r) if ours[i].shape == r.shape else float("inf")
        ok = err <= TOLERANCE
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {network} output {i}: shape {list(r.shape)}, "
              f"max relative error {err:.2e}")

sys.exit(1 if failures else 0)
