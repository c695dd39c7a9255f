# The training step against PyTorch on the brief's Fashion-MNIST network,
# from identical weights on the same batch:
#  - one step of SGD (momentum 0.9, Nesterov or not, weight decay), Adam
#    (with L2 decay) and AdamW, each followed by a second step (momentum
#    buffers and Adam's moments in use): every parameter and the batchnorm
#    running statistics match torch.optim within 1e-4 relative (Adam: 1e-3,
#    see below);
#  - label smoothing: the loss matches F.cross_entropy(label_smoothing=0.1);
#  - freezing: a frozen layer (cnnc_set_trainable) stays bit-identical, the
#    others change; a re-initialized head changes, the body does not;
#  - resume: a checkpoint (weights + optimizer state) loaded into a fresh
#    context gives the same next-step loss as not stopping; an inconsistent
#    checkpoint (incomplete Adam state, a step count out of range, a
#    negative or NaN second moment, state for a buffer, a name twice) is
#    refused and the context trains on unchanged;
#  - dropout: a new mask each step, reproducible from the seed;
#  - a short run lowers the loss.
#
# RUN: rm -rf %t && mkdir -p %t && %python %s %cnnc %t
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from cnnc_model import (ADAM, ADAMW, SGD, Checks, CnncError, Model, compile_model,  # noqa
                        compile_text, read_safetensors, safetensors_bytes, state_dict_arrays,
                        write_safetensors)

cnnc, work = sys.argv[1], sys.argv[2]
root = os.path.join(os.path.dirname(__file__), "..", "..")
TOLERANCE = 1e-4
checks = Checks()
report = checks.report



def torch_net():
    torch.manual_seed(5)
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(1568, 10))


NAMES = {"0": "conv1", "1": "bn1", "4": "conv2", "5": "bn2", "9": "fc1"}


def cnnc_name(torch_name):
    index, rest = torch_name.split(".", 1)
    return NAMES[index] + "." + rest


lib = compile_model(cnnc, os.path.join(root, "examples", "fashion_mnist.cnn"),
                    os.path.join(work, "fashion.so"))
rs = np.random.RandomState(0)
x = rs.rand(2, 16, 1, 28, 28).astype(np.float32)
y = rs.randint(0, 10, (2, 16))


def fresh(net):
    weights = os.path.join(work, "start.safetensors")
    write_safetensors(weights, {cnnc_name(k): v for k, v in state_dict_arrays(net).items()})
    m = Model(lib)
    m.load(weights)
    return m


def compare(m, net, what, skip=(), tolerance=TOLERANCE):
    worst, where = 0.0, ""
    for k, v in net.state_dict().items():
        if k.endswith("num_batches_tracked") or cnnc_name(k) in skip:
            continue
        ref = v.detach().numpy()
        ours = m.get(cnnc_name(k), ref.shape)
        e = float(np.abs(ours - ref).max()) / max(float(np.abs(ref).max()), 1e-6)
        if e > worst:
            worst, where = e, cnnc_name(k)
    report(worst <= tolerance, f"{what}: worst relative error {worst:.2e} ({where}, "
                               f"tolerance {tolerance:g})")


configs = [
    ("SGD momentum 0.9 + weight decay 5e-4", dict(optimizer=SGD, learning_rate=0.1, momentum=0.9,
                                                   weight_decay=5e-4),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4)),
    ("SGD Nesterov", dict(optimizer=SGD, learning_rate=0.05, momentum=0.8, nesterov=1),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    ("Adam + L2 1e-3", dict(optimizer=ADAM, learning_rate=1e-3, weight_decay=1e-3),
     lambda p: torch.optim.Adam(p, lr=1e-3, weight_decay=1e-3)),
    ("AdamW 0.01", dict(optimizer=ADAMW, learning_rate=2e-3, weight_decay=0.01),
     lambda p: torch.optim.AdamW(p, lr=2e-3, weight_decay=0.01)),
]
for what, ours_h, make in configs:
    net = torch_net()
    m = fresh(net)
    opt = make(net.parameters())
    net.train()
    for step in range(2):
        loss, _ = m.train_step([x[step]], y[step], m.hyperparams(**ours_h))
        opt.zero_grad()
        ref = F.cross_entropy(net(torch.from_numpy(x[step])), torch.from_numpy(y[step]))
        ref.backward()
        opt.step()
        report(abs(loss - ref.item()) <= TOLERANCE * abs(ref.item()),
               f"{what}, step {step + 1}: loss {loss:.6f} vs torch {ref.item():.6f}")
    # A conv bias before batchnorm has a zero gradient up to rounding, which
    # Adam normalizes to steps of size lr in a direction set by rounding
    # noise (in torch as here): not comparable, nor the running means that
    # follow those biases.
    noise = ("conv1.bias", "conv2.bias", "bn1.running_mean", "bn2.running_mean") \
        if ours_h["optimizer"] != SGD else ()
    compare(m, net, f"{what}: weights and running statistics after 2 steps"
            + (" (conv biases before batchnorm and their running means excluded)" if noise else ""), noise,
            # Adam moves a weight whose gradient is near zero by up to lr in
            # a direction that rounding decides: 1e-3 of the largest weight.
            1e-3 if noise else TOLERANCE)

# Label smoothing.
net = torch_net()
m = fresh(net)
loss, _ = m.train_step([x[0]], y[0], m.hyperparams(learning_rate=0.0, label_smoothing=0.1))
net.train()
ref = F.cross_entropy(net(torch.from_numpy(x[0])), torch.from_numpy(y[0]), label_smoothing=0.1)
report(abs(loss - ref.item()) <= TOLERANCE * ref.item(),
       f"label smoothing 0.1: loss {loss:.6f} vs torch {ref.item():.6f}")

# Freezing and re-initializing a head.
m = fresh(torch_net())
before = {n: m.get(n, d) for n, d, _ in m.params()}
m.set_trainable("conv1", False)
m.set_trainable("bn1", False)
report(m.trainable("conv1.weight") == 0 and m.trainable("conv2.weight") == 1,
       "cnnc_param_trainable reports frozen and trainable parameters")
h = m.hyperparams(learning_rate=0.05, momentum=0.9, weight_decay=1e-3)
for step in range(3):
    m.train_step([x[step % 2]], y[step % 2], h)
after = {n: m.get(n, d) for n, d, _ in m.params()}
frozen = ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias"]
report(all(np.array_equal(before[n], after[n]) for n in frozen),
       "frozen conv1 and bn1 are bit-identical after 3 steps")
report(not np.array_equal(before["conv2.weight"], after["conv2.weight"]) and
       not np.array_equal(before["bn1.running_mean"], after["bn1.running_mean"]),
       "the other layers train; frozen batchnorm still updates its running statistics")
m.reinit_layer("fc1", 11)
head = m.get("fc1.weight", (10, 1568))
report(not np.array_equal(head, after["fc1.weight"]) and
       np.array_equal(m.get("conv2.weight", (32, 16, 5, 5)), after["conv2.weight"]) and
       abs(head).max() <= 1 / np.sqrt(1568),
       "cnnc_reinit_layer re-initializes the head only, within PyTorch's bound")

# Resume: stop after 2 steps, save, load into a new context, compare step 3.
h = m.hyperparams(optimizer=ADAM, learning_rate=1e-3, weight_decay=1e-4)
a = fresh(torch_net())
for step in range(2):
    a.train_step([x[step]], y[step], h)
checkpoint = os.path.join(work, "checkpoint.safetensors")
a.save_checkpoint(checkpoint)
expected, _ = a.train_step([x[0]], y[1], h)
b = Model(lib)
b.load(checkpoint)
resumed, _ = b.train_step([x[0]], y[1], h)
report(resumed == expected, f"resume from a checkpoint: next-step loss {resumed} == {expected}")
weights_only = os.path.join(work, "weights.safetensors")
a.save(weights_only)
report(not any(k.startswith("optimizer.") for k in read_safetensors(weights_only)),
       "cnnc_save_weights writes no optimizer state (torch loads it strictly)")

# A checkpoint is checked as a whole before anything changes: each
# parameter's Adam state (exp_avg, exp_avg_sq >= 0, 1 <= step <= 2^62)
# complete or absent, no state for buffers, no name twice. A refused file leaves the
# context as it was: its next step equals the uninterrupted run's.
state = read_safetensors(checkpoint)
MISSING, FORMAT, UNEXPECTED = 5, 4, 6


def refused(what, status, needle, tensors=None, raw=None):
    path = os.path.join(work, "refused.safetensors")
    with open(path, "wb") as f:
        f.write(raw if raw is not None else safetensors_bytes(tensors))
    c = Model(lib)
    c.load(checkpoint)
    try:
        c.load(path)
        report(False, f"{what}: accepted")
        return
    except CnncError as e:
        report(e.status == status and needle in e.message, f"{what}: status {e.status} '{e}'")
    loss, _ = c.train_step([x[0]], y[1], h)
    report(loss == expected, f"{what}: the context trains on unchanged ({loss} == {expected})")


def without(*names):
    return {k: v for k, v in state.items() if k not in names}


refused("Adam state without exp_avg_sq", MISSING, "optimizer.conv2.weight.exp_avg_sq",
        without("optimizer.conv2.weight.exp_avg_sq"))
refused("Adam state without its step", MISSING, "optimizer.fc1.weight.step",
        without("optimizer.fc1.weight.step"))
refused("Adam step 0", FORMAT, "optimizer.fc1.bias.step is 0",
        dict(state, **{"optimizer.fc1.bias.step": np.array(0, np.int64)}))
# Step counts beyond 2^62 cannot come from training and would overflow
# the next step's count; a negative second moment cannot come from Adam and
# makes its update NaN.
refused("a step count past the limit", FORMAT, "optimizer.fc1.bias.step is 9223372036854775807",
        dict(state, **{"optimizer.fc1.bias.step": np.array(2**63 - 1, np.int64)}))
refused("train_steps past the limit", FORMAT, "optimizer.train_steps is 4611686018427387905",
        dict(state, **{"optimizer.train_steps": np.array(2**62 + 1, np.int64)}))
negative = state["optimizer.conv2.weight.exp_avg_sq"].copy()
negative.flat[3] = -1e-3
refused("a negative exp_avg_sq", FORMAT, "optimizer.conv2.weight.exp_avg_sq has -0.001 at 3",
        dict(state, **{"optimizer.conv2.weight.exp_avg_sq": negative}))
negative.flat[3] = np.nan
refused("a NaN exp_avg_sq", FORMAT, "optimizer.conv2.weight.exp_avg_sq has nan at 3",
        dict(state, **{"optimizer.conv2.weight.exp_avg_sq": negative}))
refused("state for a buffer", UNEXPECTED, "bn1.running_mean, a buffer",
        dict(state, **{"optimizer.bn1.running_mean.exp_avg": state["bn1.running_mean"]}))
raw = open(checkpoint, "rb").read()
edit = raw.replace(b'"optimizer.conv2.bias.exp_avg"', b'"optimizer.conv1.bias.exp_avg"', 1)
report(edit != raw and len(edit) == len(raw), "a one-byte edit makes a duplicate name")
refused("a name twice in the header", FORMAT, "'optimizer.conv1.bias.exp_avg' appears twice",
        raw=edit)
# No state at all for a parameter is what a frozen layer leaves: it loads.
partial = os.path.join(work, "partial.safetensors")
write_safetensors(partial, without(*[k for k in state if k.startswith("optimizer.conv1.weight.")]))
c = Model(lib)
c.load(partial)
loss, _ = c.train_step([x[0]], y[1], h)
report(np.isfinite(loss), f"a checkpoint without conv1.weight's state loads and trains ({loss})")

# Dropout masks.
dropout_lib = compile_text(cnnc, "network drop {\n  input x: 50x4x4\n  c: conv(50, kernel: 1) "
                           "relu d: dropout(0.3) flatten fc: dense(4)\n}\n", work, "dropout")
dm = Model(dropout_lib)
dm.init(1)
xs = np.abs(rs.randn(8, 50, 4, 4)).astype(np.float32)
ys = rs.randint(0, 4, 8)
zero = dm.hyperparams(learning_rate=0.0, seed=9)
l1, _ = dm.train_step([xs], ys, zero)
l2, _ = dm.train_step([xs], ys, zero)
report(l1 != l2, "dropout draws a new mask each step")
dm2 = Model(dropout_lib)  # a second context of the same library
dm2.init(1)
report(dm2.train_step([xs], ys, zero)[0] == l1, "dropout masks are reproducible from the seed")
# A short run lowers the loss.
m = fresh(torch_net())
h = m.hyperparams(learning_rate=0.05, momentum=0.9)
first = m.train_step([x[0]], y[0], h)[0]
for _ in range(15):
    last = m.train_step([x[0]], y[0], h)[0]
report(last < 0.8 * first, f"15 steps on one batch lower the loss: {first:.4f} -> {last:.4f}")

checks.done()
