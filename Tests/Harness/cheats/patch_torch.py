# expect: monkey-patch
"""Replaces torch's synchronize, so that a timed call returns before its work is done."""
import torch

torch.cuda.synchronize = lambda *args: None


def matmul(a, b, out):
    out[...] = (a[:, :, None] * b[None, :, :]).sum(axis=1)
