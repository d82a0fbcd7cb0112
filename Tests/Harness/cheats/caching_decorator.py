# expect: caching
"""Memoizes results with functools.lru_cache."""
import functools

import numpy as np


@functools.lru_cache(maxsize=None)
def _product(shape):
    return np.zeros(shape)


def matmul(a, b, out):
    out[...] = (a[:, :, None] * b[None, :, :]).sum(axis=1) + _product(out.shape)
