"""Writes small IDX files (and a broken one, and a bad PGM) for cnnrun tests."""
import gzip
import os
import struct
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.RandomState(0)


def idx(dtype_code, array):
    header = struct.pack(">BBBB", 0, 0, dtype_code, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(">u1" if dtype_code == 8 else ">f4").tobytes()


with open(f"{out}/images.idx", "wb") as f:
    f.write(idx(8, rng.randint(0, 256, (5, 28, 28))))
with gzip.open(f"{out}/labels.idx.gz", "wb") as f:
    f.write(idx(8, rng.randint(0, 10, (5,))))
with open(f"{out}/small.idx", "wb") as f:
    f.write(idx(8, rng.randint(0, 256, (2, 10, 10))))
with open(f"{out}/broken.idx", "wb") as f:
    f.write(idx(8, rng.randint(0, 256, (5, 28, 28)))[:4 + 12 + 100])
with open(f"{out}/bad.pgm", "wb") as f:
    f.write(b"P5 28 28 255\n" + bytes(100))
# No images at all, and labels that are not classes of a 10-class model.
with open(f"{out}/empty.idx", "wb") as f:
    f.write(idx(8, np.zeros((0, 28, 28))))
with open(f"{out}/label10.idx", "wb") as f:
    f.write(idx(8, np.array([1, 2, 3, 10, 4])))
with open(f"{out}/fraction.idx", "wb") as f:
    f.write(idx(13, np.array([1, 2.5, 3, 0, 4])))

# A dataset directory for cnnrun train whose test labels go beyond the
# classes (the training labels are fine).
data = f"{out}/badlabels"
os.makedirs(data, exist_ok=True)
for split, n in [("train", 8), ("t10k", 8)]:
    with open(f"{data}/{split}-images-idx3-ubyte", "wb") as f:
        f.write(idx(8, rng.randint(0, 256, (n, 28, 28))))
    with open(f"{data}/{split}-labels-idx1-ubyte", "wb") as f:
        f.write(idx(8, np.array([0, 1, 2, 3, 4, 5, 12, 9][:n] if split == "t10k"
                                else rng.randint(0, 10, (n,)))))
