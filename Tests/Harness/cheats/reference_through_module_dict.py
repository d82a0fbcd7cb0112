# expect: reference-library
"""Reaches numpy's matmul through the module's __dict__, past the source check: the runtime
tripwire sees the call."""
import numpy as np


def matmul(a, b, out):
    np.__dict__["mat" "mul"](a, b, out=out)
