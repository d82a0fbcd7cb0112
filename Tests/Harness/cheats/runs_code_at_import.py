# expect: dynamic-code
"""Builds its code at run time with exec."""
exec("def matmul(a, b, out):\n    out[...] = a.dot(b)\n")
