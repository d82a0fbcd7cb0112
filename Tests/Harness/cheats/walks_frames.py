# expect: dynamic-code
"""Walks up the interpreter's frames (through torch's own reference to sys) to tamper with its caller."""
import torch


def matmul(a, b, out):
    frame = torch.sys._getframe(1)
    out[...] = 0
    del frame
