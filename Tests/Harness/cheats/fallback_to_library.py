# expect: fallback
"""Tries its own code and falls back to the library when that fails."""
import numpy as np


def matmul(a, b, out):
    try:
        out[...] = (a[:, :, None] * b[None, :, :]).sum(axis=1) + broken  # noqa: F821
    except NameError:
        np.matmul(a, b, out=out)
