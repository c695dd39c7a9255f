# Several contexts of one model.so run in parallel threads and each gets the
# results it gets alone; contexts do not share weights or activations.
#
# RUN: rm -rf %t && mkdir -p %t && %python %s %cnnc %examples %t
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from cnnc_model import Model, compile_model  # noqa: E402

cnnc, examples, work = sys.argv[1:4]
lib = compile_model(cnnc, f"{examples}/lenet5.cnn", f"{work}/lenet.so", "lenet5")
models = [Model(lib) for _ in range(4)]
rng = np.random.RandomState(0)
inputs = []
for seed, m in enumerate(models):
    m.init(seed)
    inputs.append(rng.randn(1 + seed, 1, 32, 32).astype(np.float32))
alone = [m.forward(x)[0] for m, x in zip(models, inputs)]
assert not np.allclose(alone[0][0], alone[1][0]), "different seeds give different models"


def hammer(i):
    for _ in range(200):
        if not np.array_equal(models[i].forward(inputs[i])[0], alone[i]):
            return False
    return True


with ThreadPoolExecutor(4) as pool:
    results = list(pool.map(hammer, range(4)))
print("contexts in parallel:", results)
sys.exit(0 if all(results) else 1)
