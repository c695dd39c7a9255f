# A batch whose activations exceed what one Halide buffer may hold (2 GiB)
# runs in chunks and gives PyTorch's results for every sample.
#
# RUN: rm -rf %t && mkdir -p %t && %python %s %cnnc %t
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from cnnc_model import Model, compile_text, max_relative_error, write_safetensors  # noqa

cnnc, work = sys.argv[1:3]
# conv output: 64 x 1024 x 1024 floats = 256 MiB per sample.
lib = compile_text(cnnc, "network wide {\n  input x: 1x1024x1024\n"
                   "  c: conv(64, kernel: 3, pad: 1) relu global_avgpool flatten\n}\n",
                   work, "wide")
torch.manual_seed(0)
w, b = torch.randn(64, 1, 3, 3), torch.randn(64)
write_safetensors(f"{work}/w.safetensors", {"c.weight": w.numpy(), "c.bias": b.numpy()})
model = Model(lib)
model.load(f"{work}/w.safetensors")
x = torch.randn(9, 1, 1024, 1024)  # 9 x 256 MiB > 2 GiB
ours = model.forward(x.numpy())[0]
with torch.no_grad():
    ref = F.adaptive_avg_pool2d(F.relu(F.conv2d(x, w, b, padding=1)), 1).flatten(1).numpy()
err = max_relative_error(ours, ref)
print(f"batch 9 of 1x1024x1024: max relative error {err:.2e}")
sys.exit(0 if err <= 1e-4 else 1)
