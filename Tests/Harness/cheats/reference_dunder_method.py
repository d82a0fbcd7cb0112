# expect: dynamic-code
"""Looks the array's __matmul__ up by name."""


def matmul(a, b, out):
    out[...] = getattr(a, "__matmul__")(b)
