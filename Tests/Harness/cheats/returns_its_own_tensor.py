# expect: returned-output
"""Returns a result (the same array every time) instead of writing into out."""
import numpy as np

SAME = np.zeros(1)


def matmul(a, b, out):
    return SAME
