# expect: dynamic-code
"""Calls numpy's matmul ufunc through its private core module."""
import numpy._core.umath as um


def matmul(a, b, out):
    um.matmul(a, b, out=out)
