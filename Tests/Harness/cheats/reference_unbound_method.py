# expect: reference-library
"""Calls the product through the unbound method numpy.ndarray.dot."""
import numpy as np


def matmul(a, b, out):
    np.ndarray.dot(a, b, out)
