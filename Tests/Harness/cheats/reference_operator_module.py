# expect: dynamic-code
"""Reaches the product through the operator module."""
import operator


def matmul(a, b, out):
    out[...] = operator.matmul(a, b)
