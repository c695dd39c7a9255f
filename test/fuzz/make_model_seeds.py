"""Writes the seed corpus of the model weights fuzzer: the weights of
test/fuzz/model.cnn as cnnc_save_weights writes them, and checkpoints after
two training steps with SGD (momentum buffers), Adam and AdamW (exp_avg,
exp_avg_sq, step), so that libFuzzer starts from files that load and mutates
every kind of tensor a checkpoint carries.
Usage: make_model_seeds.py MODEL_SO OUT_DIR"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))
from cnnc_model import ADAM, ADAMW, SGD, Model  # noqa: E402


def main():
    model_so, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    model = Model(model_so)
    model.init(1)
    model.save(os.path.join(out, "model-weights.safetensors"))
    rng = np.random.default_rng(0)
    images = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    for name, optimizer in (("sgd", SGD), ("adam", ADAM), ("adamw", ADAMW)):
        model = Model(model_so)
        model.init(1)
        hyper = model.hyperparams(optimizer=optimizer, momentum=0.9)
        for _ in range(2):
            model.train_step([images], [0, 2], hyper)
        model.save_checkpoint(os.path.join(out, f"model-{name}.safetensors"))


if __name__ == "__main__":
    main()
