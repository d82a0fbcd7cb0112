# expect: reference-library
"""Calls the array method .dot, the library's product."""


def matmul(a, b, out):
    out[...] = a.dot(b)
