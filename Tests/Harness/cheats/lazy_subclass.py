# expect: lazy-tensor
"""Defers the work to a lazy array subclass that computes when looked at."""
import numpy as np


class Deferred(np.ndarray):
    pass


def matmul(a, b, out):
    out[...] = (a[:, :, None] * b[None, :, :]).sum(axis=1).view(Deferred)
