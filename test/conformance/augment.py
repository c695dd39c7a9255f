# Data augmentation (the `augment` layer, cnnc_augmentation in cnnc.h):
#  - the generated warp against torch.nn.functional.grid_sample (bilinear,
#    zeros, align_corners=False) under the same maps, for random maps and for
#    drawn ones, 1 and 3 channels, a non-square image: within 1e-4;
#  - the draws: each kind of augmentation alone gives maps of that kind
#    within its range (pure rotations about the center, shifts, zooms,
#    shears, mirrors); both mirror outcomes occur and a mirrored image is
#    torch.flip's exactly; seeds reproduce and differ;
#  - the training step: augmenting inside cnnc_train_step equals training on
#    images warped beforehand by cnnc_augment with the documented seed (same
#    loss, same weights); no augmentation equals the identity; the ranges
#    declared in the .cnn file are reported and used, hyperparameters
#    override them, also on an input with no `augment` layer;
#  - bad ranges are refused.
#
# RUN: rm -rf %t && mkdir -p %t && %python %s %cnnc %t
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from cnnc_model import (Checks, CnncError, Model, augmentation, compile_model,  # noqa: E402
                        compile_text, step_seed)

cnnc, work = sys.argv[1], sys.argv[2]
root = os.path.join(os.path.dirname(__file__), "..", "..")
checks = Checks()
report = checks.report



def torch_warp(images, maps):
    """grid_sample with the pixel-unit maps turned into affine_grid's theta."""
    n, _, h, w = images.shape
    to_norm = np.array([[2 / w, 0, 1 / w - 1], [0, 2 / h, 1 / h - 1], [0, 0, 1]])
    to_pix = np.linalg.inv(to_norm)
    thetas = []
    for m in maps.astype(np.float64):
        pix = np.vstack([m.reshape(2, 3), [0, 0, 1]])
        thetas.append((to_norm @ pix @ to_pix)[:2])
    theta = torch.tensor(np.array(thetas), dtype=torch.float64)
    grid = F.affine_grid(theta, (n, images.shape[1], h, w), align_corners=False)
    out = F.grid_sample(torch.tensor(images, dtype=torch.float64), grid, mode="bilinear",
                        padding_mode="zeros", align_corners=False)
    return out.numpy().astype(np.float32)


lib = compile_text(cnnc, """
network augmented {
  input image: 3x9x13
  augment(translate: [0.1, 0.2], rotate: 15, shear: 5, scale: [0.9, 1.1], flip: true)
  conv(4, kernel: 3, pad: 1) batchnorm relu maxpool(2)
  flatten dense(5)
}
""", work, "augmented")
m = Model(lib)
m.init(3)
rs = np.random.RandomState(0)

# --- The warp against grid_sample.
images = rs.rand(6, 3, 9, 13).astype(np.float32)
random_maps = np.concatenate([rs.randn(6, 2) * 0.5 + [1, 0], rs.randn(6, 1) * 3,
                              rs.randn(6, 1) * 0.5, rs.randn(6, 1) * 0.5 + 1, rs.randn(6, 1) * 3],
                             axis=1).astype(np.float32)
wide = augmentation(translate=(0.3, 0.3), rotate=40, shear=20, scale=(0.7, 1.3), flip=True)
for what, maps in [("random maps", random_maps),
                   ("drawn maps", m.augmentation_maps(wide, 6, 9, 13, seed=11))]:
    err = float(np.abs(m.augment(images, maps) - torch_warp(images, maps)).max())
    report(err < 1e-4, f"warp of 3x9x13 images, {what}, vs grid_sample: max error {err:.2e}")

fashion_lib = compile_model(cnnc, os.path.join(root, "examples", "fashion_mnist.cnn"),
                            os.path.join(work, "fashion.so"))
fashion = Model(fashion_lib)
fashion.init(1)
digits = rs.rand(4, 1, 28, 28).astype(np.float32)
maps = fashion.augmentation_maps(wide, 4, 28, 28, seed=5)
err = float(np.abs(fashion.augment(digits, maps) - torch_warp(digits, maps)).max())
report(err < 1e-4, f"warp of an input with no `augment` layer (1x28x28) vs grid_sample: {err:.2e}")

# --- The draws.
N = 64
identity = np.tile(np.array([1, 0, 0, 0, 1, 0], np.float32), (N, 1))
maps = m.augmentation_maps(augmentation(), N, 9, 13, seed=1)
report(np.array_equal(maps, identity), "no augmentation draws identity maps")

maps = m.augmentation_maps(augmentation(flip=True), N, 9, 13, seed=1)
mirror = np.array([-1, 0, 12, 0, 1, 0], np.float32)
is_id = np.all(maps == identity[0], axis=1)
is_mirror = np.all(np.abs(maps - mirror) < 1e-6, axis=1)
report(bool(np.all(is_id | is_mirror)) and 10 < is_mirror.sum() < N - 10,
       f"flip: identity or mirror, {int(is_mirror.sum())} mirrors in {N}")
flipped = m.augment(images, np.tile(mirror, (6, 1)))
report(np.array_equal(flipped, np.flip(images, 3)), "a mirror map gives torch.flip exactly")


def linear(maps):
    return maps[:, [0, 1, 3, 4]].reshape(-1, 2, 2).astype(np.float64)


center = np.array([6.0, 4.0])  # ((W - 1) / 2, (H - 1) / 2) of 9x13


def fixed_point_error(maps):
    """How far the center moves (0 when the map is about the center)."""
    a = linear(maps)
    src = a @ center + maps[:, [2, 5]].astype(np.float64)
    return float(np.abs(src - center).max())


maps = m.augmentation_maps(augmentation(rotate=10), N, 9, 13, seed=2)
a = linear(maps)
angles = np.degrees(np.arctan2(a[:, 1, 0], a[:, 0, 0]))
ortho = float(np.abs(a @ a.transpose(0, 2, 1) - np.eye(2)).max())
report(ortho < 1e-6 and np.abs(angles).max() <= 10 + 1e-4 and np.abs(angles).max() > 5 and
       fixed_point_error(maps) < 1e-4,
       f"rotate 10: rotations about the center, |angle| <= {np.abs(angles).max():.2f} deg")

maps = m.augmentation_maps(augmentation(translate=(0.1, 0.2)), N, 9, 13, seed=3)
shift = -maps[:, [2, 5]]
report(np.array_equal(linear(maps), np.tile(np.eye(2), (N, 1, 1))) and
       np.abs(shift[:, 0]).max() <= 1.3 + 1e-5 and np.abs(shift[:, 1]).max() <= 1.8 + 1e-5 and
       np.abs(shift[:, 0]).max() > 0.65,
       "translate [0.1, 0.2]: shifts within 0.1 x 13 and 0.2 x 9 pixels")

maps = m.augmentation_maps(augmentation(scale=(0.8, 1.25)), N, 9, 13, seed=4)
a = linear(maps)
zoom = 1 / a[:, 0, 0]
report(float(np.abs(a[:, 0, 1]).max()) == 0 and np.allclose(a[:, 0, 0], a[:, 1, 1]) and
       zoom.min() >= 0.8 - 1e-5 and zoom.max() <= 1.25 + 1e-5 and fixed_point_error(maps) < 1e-4,
       f"scale [0.8, 1.25]: zooms about the center in [{zoom.min():.3f}, {zoom.max():.3f}]")

maps = m.augmentation_maps(augmentation(shear=20), N, 9, 13, seed=5)
a = linear(maps)
shears = np.degrees(np.arctan(-a[:, 0, 1]))
report(np.allclose(a[:, 0, 0], 1) and np.allclose(a[:, 1, 1], 1) and
       np.allclose(a[:, 1, 0], 0) and np.abs(shears).max() <= 20 + 1e-4 and
       fixed_point_error(maps) < 1e-4,
       f"shear 20: horizontal shears within {np.abs(shears).max():.2f} deg")

one = m.augmentation_maps(wide, 8, 9, 13, seed=9)
report(np.array_equal(one, m.augmentation_maps(wide, 8, 9, 13, seed=9)) and
       not np.array_equal(one, m.augmentation_maps(wide, 8, 9, 13, seed=10)),
       "the same seed draws the same maps, another seed others")
other_size = m.augmentation_maps(wide, 8, 90, 130, seed=9)
report(np.allclose(linear(one), linear(other_size), atol=1e-6),
       "the draws do not depend on the image size")

# --- The training step.
declared = m.declared_augmentation(0)
report((declared.translate_x, declared.rotate, declared.flip) == (np.float32(0.1), 15.0, 1) and
       abs(declared.scale_max - 1.1) < 1e-6,
       "cnnc_declared_augmentation reports the .cnn file's ranges")
implicit = fashion.declared_augmentation(0)
report((implicit.rotate, implicit.scale_min, implicit.flip) == (0, 1, 0),
       "an input without `augment` declares no augmentation")

labels = rs.randint(0, 5, 6)
weights = os.path.join(work, "start.safetensors")
m.save(weights)


def trained(images, hyper):
    model = Model(lib)
    model.load(weights)
    loss, _ = model.train_step([images], labels, hyper)
    return loss, model.get("fc1.weight", (5, 96)), model


seed = 77
loss_a, w_a, _ = trained(images, m.hyperparams(seed=seed))
warped = m.augment(images, m.augmentation_maps(declared, 6, 9, 13, step_seed(seed, 0)))
loss_b, w_b, _ = trained(warped, m.hyperparams(seed=seed, augmentation=augmentation()))
report(abs(loss_a - loss_b) < 1e-6 and np.abs(w_a - w_b).max() < 1e-6,
       f"declared augmentation in the step = training on cnnc_augment's output "
       f"(loss {loss_a:.6f} vs {loss_b:.6f})")
loss_c, w_c, _ = trained(images, m.hyperparams(seed=seed, augmentation=augmentation()))
report(abs(loss_c - loss_a) > 1e-4, f"augmentation changes the step (loss {loss_c:.6f} without)")
loss_d, _, _ = trained(images, m.hyperparams(seed=seed + 1))
report(abs(loss_d - loss_a) > 1e-6, "another seed warps differently")

fashion_weights = os.path.join(work, "fashion.safetensors")
fashion.save(fashion_weights)
lab10 = rs.randint(0, 10, 4)
override = augmentation(rotate=20, flip=True)
f1 = Model(fashion_lib)
f1.load(fashion_weights)
loss_e, _ = f1.train_step([digits], lab10, f1.hyperparams(seed=3, augmentation=override))
f2 = Model(fashion_lib)
f2.load(fashion_weights)
pre = f2.augment(digits, f2.augmentation_maps(override, 4, 28, 28, step_seed(3, 0)))
loss_f, _ = f2.train_step([pre], lab10, f2.hyperparams(seed=3))
report(abs(loss_e - loss_f) < 1e-6,
       f"hyperparameters augment an input with no `augment` layer ({loss_e:.6f} vs {loss_f:.6f})")

# --- Bad ranges.
for bad, what in [(augmentation(rotate=181), "rotate 181"), (augmentation(scale=(1.2, 1.1)),
                  "scale [1.2, 1.1]"), (augmentation(translate=(-0.1, 0)), "translate -0.1"),
                  (augmentation(shear=80), "shear 80"), (augmentation(rotate=math.nan), "NaN")]:
    try:
        m.augmentation_maps(bad, 1, 9, 13, seed=1)
        refused = False
    except CnncError:
        refused = True
    try:
        trained(images, m.hyperparams(augmentation=bad))
        refused_step = False
    except CnncError as e:
        refused_step = "augmentation" in e.message
    report(refused and refused_step, f"{what} is refused")

checks.done()
