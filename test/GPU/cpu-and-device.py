# A CPU build and a device build of the same model in one process: the same
# outputs, a short training run (10 SGD steps with momentum, then 5 Adam
# steps) with the same losses and weights, and weights saved by one loaded by
# the other. The device is OpenCL on PoCL here (CNNC_TEST_TARGET, default
# opencl); scripts/gpu-checks.sh runs it with cuda.
#
# REQUIRES: opencl
# RUN: rm -rf %t && mkdir -p %t && %python %s %cnnc %examples %t
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
from cnnc_model import ADAM, SGD, Checks, Model, compile_model, max_relative_error  # noqa: E402

cnnc, examples, work = sys.argv[1:4]
target = os.environ.get("CNNC_TEST_TARGET") or "opencl"
checks = Checks()
source = os.path.join(examples, "fashion_mnist.cnn")
# A CPU target any x86-64 machine with AVX2 runs (the GPU machine too).
cpu_lib = compile_model(cnnc, source, os.path.join(work, "cpu.so"),
                        extra=["--target=x86-64-linux-avx2-f16c-fma-sse41"])
dev_lib = compile_model(cnnc, source, os.path.join(work, "device.so"),
                        extra=["--target=" + target])
cpu, dev = Model(cpu_lib), Model(dev_lib)
for m in (cpu, dev):
    m.init(3)
rs = np.random.RandomState(0)
x = rs.rand(5, 16, 1, 28, 28).astype(np.float32)
y = rs.randint(0, 10, (5, 16)).astype(np.int32)

err = max_relative_error(dev.forward(x[0])[0], cpu.forward(x[0])[0])
checks.report(err <= 1e-5, f"{target} and cpu outputs: max relative error {err:.2e}")



def train(steps, first, **kw):
    """`steps` steps on both builds; the worst relative loss difference."""
    worst = 0.0
    for step in range(first, first + steps):
        losses = [m.train_step([x[step % 5]], y[step % 5], m.hyperparams(**kw))[0]
                  for m in (cpu, dev)]
        worst = max(worst, abs(losses[1] - losses[0]) / abs(losses[0]))
    return worst


def worst_weights():
    worst, where = 0.0, ""
    for name, shape, flags in cpu.params():
        e = max_relative_error(dev.get(name, shape), cpu.get(name, shape))
        if e > worst:
            worst, where = e, name
    return worst, where


e = train(10, 0, optimizer=SGD, learning_rate=0.05, momentum=0.9)
checks.report(e <= 1e-4, f"10 SGD steps: losses within {e:.2e} relative")
worst, where = worst_weights()
checks.report(worst <= 1e-4, f"weights after them: worst relative error {worst:.2e} ({where})")
# Adam's steps normalize a conv bias's gradient before a batchnorm, which is
# zero up to rounding (training.py): only the losses are compared.
e = train(5, 10, optimizer=ADAM, learning_rate=1e-3)
checks.report(e <= 1e-4, f"5 Adam steps: losses within {e:.2e} relative")

saved = os.path.join(work, "device.safetensors")
dev.save(saved)
again = Model(cpu_lib)
again.load(saved)
err = max_relative_error(again.forward(x[1])[0], dev.forward(x[1])[0])
checks.report(err <= 1e-5, f"{target} weights loaded into the cpu build: outputs within {err:.2e}")
checks.done()
