"""Writes small IDX files (and a broken one, and a bad PGM) for cnnrun tests."""
import gzip
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
