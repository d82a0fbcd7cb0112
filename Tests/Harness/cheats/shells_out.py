# expect: dynamic-code
"""Runs a process to do the work."""
import subprocess


def matmul(a, b, out):
    subprocess.run(["true"])
    out[...] = (a[:, :, None] * b[None, :, :]).sum(axis=1)
