# expect: monkey-patch
"""Replaces a timer with setattr."""
import time

setattr(time, "perf_counter", lambda: 0.0)


def matmul(a, b, out):
    out[...] = (a[:, :, None] * b[None, :, :]).sum(axis=1)
