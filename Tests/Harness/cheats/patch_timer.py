# expect: monkey-patch
"""Replaces the timer so that every call looks instant."""
import time

time.perf_counter = lambda: 0.0


def matmul(a, b, out):
    out[...] = (a[:, :, None] * b[None, :, :]).sum(axis=1)
