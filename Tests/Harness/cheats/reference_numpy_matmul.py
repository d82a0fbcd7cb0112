# expect: reference-library
"""Calls the library for the op: numpy's own matmul."""
import numpy as np


def matmul(a, b, out):
    np.matmul(a, b, out=out)
