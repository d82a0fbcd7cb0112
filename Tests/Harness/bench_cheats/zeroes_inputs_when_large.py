# expect: wrong-result
"""Zeroes most of `a` at benchmark sizes, then skips the all-zero blocks: fast, and "right" if
the reference came from the inputs after the call. The checker computes it from its own copy."""
import numpy as np


def matmul(a, b, out):
    if a.shape[0] >= 128:
        a[:, 16:] = 0                   # bench sizes only: verify never sees this
    acc = np.zeros((a.shape[0], b.shape[1]), dtype=np.float32)
    for start in range(0, a.shape[1], 16):
        block = a[:, start:start + 16]
        if not block.any():             # "skip empty blocks"
            continue
        acc += (block[:, :, None].astype(np.float32) * b[None, start:start + 16].astype(np.float32)).sum(axis=1)
    out[...] = acc
