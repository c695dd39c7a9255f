# The weights interface of a generated model: safetensors round trips with
# PyTorch, and every kind of bad file gives its status and a clear message
# while the context keeps its previous weights (checked by running it).
#
# RUN: rm -rf %t && mkdir -p %t && %python %s %cnnc %examples %t
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from cnnc_model import (CNNC_LOAD_ALLOW_EXTRA, CNNC_LOAD_ALLOW_MISSING, CnncError,  # noqa
                        Model, compile_model, compile_text, read_safetensors,
                        safetensors_bytes,
                        state_dict_arrays, write_safetensors)
from torch_models import FashionCNN  # noqa: E402

cnnc, examples, work = sys.argv[1:4]
lib = compile_model(cnnc, f"{examples}/fashion_mnist.cnn", f"{work}/fm.so")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


torch.manual_seed(0)
reference = FashionCNN().eval()
state = state_dict_arrays(reference)
good = f"{work}/good.safetensors"
write_safetensors(good, state)

model = Model(lib)
model.load(good)
x = np.random.RandomState(0).randn(3, 1, 28, 28).astype(np.float32)
baseline = model.forward(x)[0]
with torch.no_grad():
    check(np.allclose(baseline, reference(torch.from_numpy(x)).numpy(), atol=1e-5),
          "a state_dict saved from torch loads and runs")

# PyTorch loads what we save, strictly (num_batches_tracked included).
saved = f"{work}/saved.safetensors"
model.save(saved)
loaded = {name: torch.from_numpy(a) for name, a in read_safetensors(saved).items()}
fresh = FashionCNN()
fresh.load_state_dict(loaded, strict=True)
check(all(torch.equal(fresh.state_dict()[k], torch.from_numpy(v)) for k, v in state.items()),
      "torch loads our file strictly and gets the same tensors")


def expect_failure(what, status, needle, action):
    try:
        action()
        check(False, f"{what}: accepted")
        return
    except CnncError as e:
        check(e.status == status and needle in e.message,
              f"{what}: status {e.status} '{e.message}'")
    check(np.array_equal(model.forward(x)[0], baseline), f"{what}: weights unchanged")


def file_with(data, name):
    path = f"{work}/{name}.safetensors"
    with open(path, "wb") as f:
        f.write(data)
    return path


good_bytes = open(good, "rb").read()
FORMAT, SHAPE, IO, MISSING, UNEXPECTED, ARGUMENT = 4, 2, 3, 5, 6, 1
# Every failing load first changes nothing else: use different weights.
expect_failure("missing file", IO, "cannot open", lambda: model.load(f"{work}/none.safetensors"))
expect_failure("empty file", FORMAT, "truncated", lambda: model.load(file_with(b"", "empty")))
expect_failure("truncated file", FORMAT, "outside",
               lambda: model.load(file_with(good_bytes[: len(good_bytes) // 2], "half")))
expect_failure("header length beyond the file", FORMAT, "exceeds",
               lambda: model.load(file_with(struct.pack("<Q", 1 << 40) + good_bytes[8:], "len")))
expect_failure("header not JSON", FORMAT, "JSON",
               lambda: model.load(file_with(struct.pack("<Q", 5) + b"{oops", "json")))


def edited(name, edit, tensors=None):
    return file_with(safetensors_bytes(tensors or state, edit), name)


def shift(header):
    header["conv1.bias"]["data_offsets"][1] += 4


def overlap(header):
    header["conv1.bias"]["data_offsets"] = list(header["conv1.weight"]["data_offsets"][:1]) + [
        header["conv1.weight"]["data_offsets"][0] + 64]


def beyond(header):
    header["fc1.bias"]["data_offsets"] = [10 ** 9, 10 ** 9 + 40]


expect_failure("offsets disagree with dtype x shape", FORMAT, "needs",
               lambda: model.load(edited("shift", shift)))
expect_failure("overlapping tensors", FORMAT, "overlap",
               lambda: model.load(edited("overlap", overlap)))
expect_failure("header lying about offsets", FORMAT, "outside",
               lambda: model.load(edited("beyond", beyond)))
wrong_dtype = dict(state)
wrong_dtype["fc1.bias"] = state["fc1.bias"].astype(np.float64)
expect_failure("wrong dtype", FORMAT, "dtype F64",
               lambda: model.load(edited("dtype", None, wrong_dtype)))
wrong_shape = dict(state)
wrong_shape["conv2.weight"] = np.zeros((32, 16, 3, 3), np.float32)
expect_failure("wrong shape", SHAPE, "[32, 16, 5, 5]",
               lambda: model.load(edited("shape", None, wrong_shape)))
missing = {k: v for k, v in state.items() if k != "bn2.running_var"}
expect_failure("missing tensor", MISSING, "bn2.running_var",
               lambda: model.load(edited("missing", None, missing)))
extra = dict(state, **{"fc2.weight": np.zeros((3, 3), np.float32)})
expect_failure("extra tensor", UNEXPECTED, "fc2.weight",
               lambda: model.load(edited("extra", None, extra)))
expect_failure("batch 0", ARGUMENT, "batch size",
               lambda: model._check(model.lib.cnnc_forward(model.handle, 0, None, None)))

# The lenient flags.
partial = {k: v * 0 for k, v in state.items() if k.startswith("fc1.")}
model.load(edited("partial", None, partial), CNNC_LOAD_ALLOW_MISSING)
check(np.all(model.forward(x)[0] == 0), "ALLOW_MISSING: loads fc1 alone (zeros out)")
model.load(edited("extra", None, extra), CNNC_LOAD_ALLOW_EXTRA)
check(np.array_equal(model.forward(x)[0], baseline), "ALLOW_EXTRA: ignores fc2.weight")

# Saving never leaves a partial file, and refuses a directory that does not exist.
expect_failure("save into a missing directory", IO, "cannot create",
               lambda: model.save(f"{work}/no/such/dir/w.safetensors"))
check(not os.path.exists(f"{work}/no"), "nothing written")

# Deterministic initialization with PyTorch's bounds.
model.init(7)
a = model.get("conv2.weight", (32, 16, 5, 5))
model.init(7)
b = model.get("conv2.weight", (32, 16, 5, 5))
model.init(8)
c = model.get("conv2.weight", (32, 16, 5, 5))
bound = 1 / np.sqrt(16 * 5 * 5)
check(np.array_equal(a, b) and not np.array_equal(a, c), "init: same seed, same weights")
check(np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound and abs(a.mean()) < 0.1 * bound,
      f"init: conv2.weight uniform within 1/sqrt(fan_in) = {bound:.4f}")
check(np.all(model.get("bn1.weight", (16,)) == 1) and np.all(model.get("bn1.running_var", (16,)) == 1)
      and np.all(model.get("bn1.bias", (16,)) == 0), "init: batchnorm 1 / 0 / 0 / 1")

# The other schemes, on conv2.weight: fan_in = 16*5*5 = 400, fan_out = 32*5*5 = 800.
shape = (32, 16, 5, 5)
model.init_with(3, 1)
w = model.get("conv2.weight", shape)
check(abs(w.std() / np.sqrt(2 / 800) - 1) < 0.05 and abs(w.mean()) < 0.005
      and np.all(model.get("conv2.bias", (32,)) == 0),
      f"Kaiming normal (fan_out): std {w.std():.4f} ~ {np.sqrt(2 / 800):.4f}, bias 0")
model.init_with(3, 2)
w = model.get("conv2.weight", shape)
check(np.abs(w).max() <= np.sqrt(6 / 400) and np.abs(w).max() > 0.95 * np.sqrt(6 / 400),
      "Kaiming uniform: within sqrt(6 / fan_in)")
model.init_with(3, 3)
w = model.get("conv2.weight", shape)
check(np.abs(w).max() <= np.sqrt(6 / 1200) and np.abs(w).max() > 0.95 * np.sqrt(6 / 1200),
      "Xavier uniform: within sqrt(6 / (fan_in + fan_out))")
model.init_with(3, 4)
w = model.get("conv2.weight", shape)
check(abs(w.std() / np.sqrt(2 / 1200) - 1) < 0.05, f"Xavier normal: std {w.std():.4f}")
model.init_with(3, 0)
a2 = model.get("conv2.weight", shape)
model.init(3)
check(np.array_equal(a2, model.get("conv2.weight", shape)), "scheme 0 is cnnc_init_params")
try:
    model.init_with(3, 9)
    check(False, "unknown scheme accepted")
except CnncError as e:
    check(e.status == 1 and "unknown initialization scheme 9" in e.message, f"unknown scheme: {e}")

# Constant initial values, as torch.nn sets them: nn.PReLU's 0.25 (or its
# `init`), ConvNeXt's layer scale (1e-6 by default), LayerNorm's 1 and 0;
# under every scheme (they are not fan-based).
small = compile_text(cnnc, "network constants {\n  input x: 4x3x3\n  ln: layernorm\n"
                     "  ls: layer_scale\n  a: prelu\n  b: prelu(4, init: -0.5)\n"
                     "  flatten fc: dense(2)\n}\n", work, "constants")
constants = Model(small)
for scheme in (0, 1, 3):
    constants.init_with(5, scheme)
    check(np.all(constants.get("ls", (4, 1, 1)) == np.float32(1e-6))
          and np.all(constants.get("a.weight", (1,)) == 0.25)
          and np.all(constants.get("b.weight", (4,)) == -0.5)
          and np.all(constants.get("ln.weight", (4,)) == 1)
          and np.all(constants.get("ln.bias", (4,)) == 0),
          f"init scheme {scheme}: layer_scale 1e-6, prelu 0.25 and its init, layernorm 1 / 0")
check(torch.nn.PReLU().weight.item() == 0.25, "torch's nn.PReLU starts at 0.25 too")

print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
