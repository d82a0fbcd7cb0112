# expect: non-finite
"""Writes an infinity."""
import numpy as np


def matmul(a, b, out):
    out[...] = (a[:, :, None].astype("float32") * b[None, :, :].astype("float32")).sum(axis=1)
    out[0, 0] = np.inf
