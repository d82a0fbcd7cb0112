# expect: reference-library
"""Imports the library's matmul under another name."""
from numpy import matmul as multiply_blocks


def matmul(a, b, out):
    multiply_blocks(a, b, out=out)
