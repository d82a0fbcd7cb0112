# expect: reference-library
"""Uses the @ operator, which is the library's matmul."""


def matmul(a, b, out):
    out[...] = a @ b
