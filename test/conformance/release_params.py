# cnnc_release_params: an inference-only context gives the same outputs as
# before, bit for bit, holds about one copy of the weights instead of two
# (its resident set shrinks by about the parameters' size), and every call
# that needs the released parameters fails with CNNC_ERROR_RELEASED and a
# message, leaving inference working.
#
# RUN: rm -rf %t && mkdir -p %t && %python %s %cnnc %t
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from cnnc_model import CNNC_ERROR_RELEASED, CnncError, Model, compile_text  # noqa: E402

cnnc, work = sys.argv[1:3]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def resident():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise KeyError("VmRSS")


# A 4096 x 2048 dense layer (32 MiB) dominates; batchnorm is folded into the
# conv before it and prelu's slope is read by its own step.
lib = compile_text(cnnc, "network released {\n  input x: 3x16x16\n"
                   "  conv(16, kernel: 3, pad: 1) batchnorm relu\n  a: prelu\n"
                   "  flatten\n  fc1: dense(2048) relu\n  fc2: dense(10)\n}\n", work, "released")
model = Model(lib)
model.init(3)
names = [name for name, _, _ in model.params()]
param_bytes = sum(4 * int(np.prod(dims)) for _, dims, _ in model.params())
rng = np.random.RandomState(0)
x = rng.randn(5, 3, 16, 16).astype(np.float32)
before = model.forward(x)[0]
weights = os.path.join(work, "released.safetensors")
model.save(weights)

held = resident()
model.release_params()
freed = held - resident()
check(freed > 0.8 * param_bytes,
      f"releasing frees about the parameters' size: {freed / 2**20:.1f} MiB of "
      f"{param_bytes / 2**20:.1f} MiB")
check(np.array_equal(model.forward(x)[0], before), "the same outputs after release, bit for bit")
check(np.array_equal(model.forward(x[:2])[0], before[:2]), "and at another batch size")
model.release_params()
check(np.array_equal(model.forward(x)[0], before), "releasing twice changes nothing")
check(set(names) >= {"a.weight", "fc1.weight"} and len(model.params()) == len(names),
      "the parameter list is still described")

hyper = model.hyperparams(learning_rate=0.1)
refused = {
    "init": lambda: model.init(1),
    "init_with": lambda: model.init_with(1, 1),
    "load": lambda: model.load(weights),
    "load_bytes": lambda: model.load_bytes(open(weights, "rb").read()),
    "save": lambda: model.save(os.path.join(work, "again.safetensors")),
    "save_checkpoint": lambda: model.save_checkpoint(os.path.join(work, "ckpt.safetensors")),
    "get": lambda: model.get("fc1.weight", (2048, 4096)),
    "get (a kept one)": lambda: model.get("a.weight", (1,)),
    "set": lambda: model.set("fc2.bias", np.zeros(10, np.float32)),
    "reinit_layer": lambda: model.reinit_layer("fc2", 1),
    "train_step": lambda: model.train_step([x], np.zeros(5, np.int32), hyper),
    "grad": lambda: model.grad("fc2.bias", (10,)),
}
for what, call in refused.items():
    try:
        call()
        check(False, f"{what} after release fails")
    except CnncError as e:
        check(e.status == CNNC_ERROR_RELEASED and "cnnc_release_params" in str(e),
              f"{what} after release: {e}")
check(not os.path.exists(os.path.join(work, "again.safetensors"))
      and not os.path.exists(os.path.join(work, "ckpt.safetensors")), "nothing was written")
check(np.array_equal(model.forward(x)[0], before), "inference still works after the refusals")

# A fresh context from the saved weights agrees, so the weights were intact.
fresh = Model(lib)
fresh.load(weights)
check(np.array_equal(fresh.forward(x)[0], before), "the saved weights give the same outputs")

# A context that has trained releases its training state too, and keeps the
# weights it trained to.
trained = Model(lib)
trained.init(3)
trained.train_step([x], np.arange(5, dtype=np.int32), trained.hyperparams(learning_rate=0.1,
                                                                         momentum=0.9))
after_step = trained.forward(x)[0]
check(not np.array_equal(after_step, before), "the training step changed the weights")
trained.release_params()
check(np.array_equal(trained.forward(x)[0], after_step),
      "released after training: the trained outputs, bit for bit")

sys.exit(1 if failures else 0)
