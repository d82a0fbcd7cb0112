# expect: monkey-patch
"""Replaces numpy's matmul (the reference) with its own slow copy."""
import numpy as np


def _slow(a, b, out=None):
    return None


np.matmul = _slow


def matmul(a, b, out):
    out[...] = (a[:, :, None] * b[None, :, :]).sum(axis=1)
