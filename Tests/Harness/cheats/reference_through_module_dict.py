# expect: dynamic-code
"""Reaches numpy's matmul through the module's __dict__ (the runtime tripwire would see the call
too: see the run-time cheats in test_harness.py)."""
import numpy as np


def matmul(a, b, out):
    np.__dict__["mat" "mul"](a, b, out=out)
