# The gradient of every operator against PyTorch autograd, and against
# finite differences. Each case of op_cases.py (random hyperparameters)
# becomes a training network: a 1x1 conv `pre` before the layer (so that the
# layer's input gradient is computed and reaches a parameter), the layer, and
# a dense head whose logits go into the softmax cross-entropy. One training
# step with learning rate 0 gives the loss and the gradient of every
# parameter (cnnc_get_grad); torch computes the same with batchnorm in
# training mode. Checked per parameter: max |ours - torch| / max(max |torch|,
# floor) <= 1e-4, the floor being 1e-2 of the case's largest gradient (a bias
# whose shift a batchnorm cancels has a zero gradient up to rounding), the
# loss, and the running statistics.
#
# RUN: rm -rf %t && mkdir -p %t && %python %s %cnnc %t
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from cnnc_model import Model, compile_text, write_safetensors  # noqa: E402
import op_cases  # noqa: E402

cnnc, work = sys.argv[1], sys.argv[2]
TOLERANCE = 1e-4
CLASSES = 6
op_cases.TRAINING = True
# Dropout masks differ from torch's stream by design; training.py checks them.
# Dropout and stochastic depth draw masks in training: training.py and
# network_steps.py replay them.
cases = [c for c in op_cases.cases
         if "dropout" not in c["name"] and "stochastic depth" not in c["name"]]


def error(ours, ref, floor):
    return float(np.abs(ours - ref).max()) / max(float(np.abs(ref).max()), floor)


def build(i, c, flat):
    head = "head: dense(%d)" % CLASSES if flat else "flatten head: dense(%d)" % CLASSES
    return compile_text(cnnc, f"network grad{i} {{\n  input x: {'x'.join(map(str, c['shape']))}\n"
                        f"  pre: conv({c['shape'][0]}, kernel: 1)\n  {c['body']}\n  {head}\n}}\n",
                        work, f"grad{i}", extra=["-j", "1"])


def torch_case(c):
    """Random parameters (with the pre conv and the head) and torch's loss."""
    torch.manual_seed(op_cases.SEED + len(c["name"]))
    cin = c["shape"][0]
    params = {"pre.weight": torch.randn(cin, cin, 1, 1) * 0.5, "pre.bias": torch.randn(cin)}
    for name, shape in c["params"].items():
        t = torch.randn(shape)
        if name.endswith("running_var"):
            t = t.abs() + 0.5
        params[name] = t
    x = torch.randn(c["batch"] + 1, *c["shape"])
    with torch.no_grad():
        probe = c["forward"](F.conv2d(x, params["pre.weight"], params["pre.bias"]),
                             {k: v.clone() for k, v in params.items()})
    features = probe[0].numel()
    params["head.weight"] = torch.randn(CLASSES, features) / features ** 0.5
    params["head.bias"] = torch.randn(CLASSES)
    return params, x, probe.dim() == 2


specs = [torch_case(c) for c in cases]
with ThreadPoolExecutor(2) as pool:
    libraries = list(pool.map(lambda a: build(a[0], a[1][0], a[1][1][2]),
                              enumerate(zip(cases, specs))))

failures = 0
for i, (c, (params, x, _), lib) in enumerate(zip(cases, specs, libraries)):
    weights = os.path.join(work, f"grad{i}.safetensors")
    write_safetensors(weights, {k: v.numpy() for k, v in params.items()})
    labels = np.random.RandomState(i).randint(0, CLASSES, x.shape[0])
    model = Model(lib)
    model.load(weights)
    loss, _ = model.train_step([x.numpy()], labels, model.hyperparams(learning_rate=0.0))

    tp = {k: v.clone().requires_grad_(not k.startswith(("n.running", "running")) and
                                      "running_" not in k) for k, v in params.items()}
    h = c["forward"](F.conv2d(x, tp["pre.weight"], tp["pre.bias"]), tp)
    logits = F.linear(torch.flatten(h, 1), tp["head.weight"], tp["head.bias"])
    ref_loss = F.cross_entropy(logits, torch.from_numpy(labels).long())
    ref_loss.backward()
    worst, where = abs(loss - ref_loss.item()) / max(abs(ref_loss.item()), 1e-6), "loss"
    floor = max([1e-4] + [1e-2 * float(t.grad.abs().max()) for t in tp.values()
                          if t.grad is not None])
    for name, t in tp.items():
        if "running_" in name:
            ours = model.get(name, tuple(t.shape))
            ref = t.detach().numpy()  # updated in place by torch's batch_norm
        else:
            ours, ref = model.grad(name, tuple(t.shape)), t.grad.numpy()
        e = error(ours, ref, floor)
        if e > worst:
            worst, where = e, name
    ok = worst <= TOLERANCE
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {c['name']}: batch {x.shape[0]}, "
          f"worst relative error {worst:.2e} ({where})")

# Finite differences of our own loss for a few weights of a small network.
model = Model(compile_text(cnnc, "network fd {\n  input x: 2x7x7\n  c: conv(4, kernel: 3, pad: 1) "
                           "tanh avgpool(2, ceil: true) n: batchnorm flatten d: dense(3)\n}\n",
                           work, "fd"))
model.init(7)
rs = np.random.RandomState(3)
x, labels = rs.randn(4, 2, 7, 7).astype(np.float32), rs.randint(0, 3, 4)
zero = model.hyperparams(learning_rate=0.0)
model.train_step([x], labels, zero)
fd_worst = 0.0
for name, shape in (("c.weight", (4, 2, 3, 3)), ("n.weight", (4,)), ("d.weight", (3, 64))):
    grad = model.grad(name, shape)
    w = model.get(name, shape)
    for flat in rs.choice(w.size, 3, replace=False):
        step = 1e-2
        losses = []
        for sign in (1, -1):
            v = w.copy()
            v.flat[flat] += sign * step
            model.lib.cnnc_set_param(model.handle, name.encode(), v.ctypes.data, v.size)
            losses.append(model.train_step([x], labels, zero)[0])
        model.lib.cnnc_set_param(model.handle, name.encode(), w.ctypes.data, w.size)
        numeric = (losses[0] - losses[1]) / (2 * step)
        e = abs(numeric - grad.flat[flat]) / max(abs(grad).max(), 1e-3)
        fd_worst = max(fd_worst, e)
fd_ok = fd_worst <= 1e-2
failures += not fd_ok
print(f"{'ok  ' if fd_ok else 'FAIL'} finite differences (step 1e-2): worst {fd_worst:.2e}"
      " of the largest gradient (tolerance 1e-2)")
print(f"{len(cases) + 1 - failures} of {len(cases) + 1} gradient checks passed "
      f"(seed {op_cases.SEED})")
sys.exit(1 if failures else 0)
