"""CPU candidate (NumPy): C = A @ B as broadcast products summed over blocks of K (the last
block may be partial), fp32 accumulation, written into `out`."""
import numpy as np

BLOCK_K = 16


def matmul(a, b, out):
    m, k = a.shape
    acc = np.zeros((m, b.shape[1]), dtype=np.float32)
    for start in range(0, k, BLOCK_K):
        a_block = a[:, start:start + BLOCK_K].astype(np.float32)
        b_block = b[start:start + BLOCK_K].astype(np.float32)
        acc += (a_block[:, :, None] * b_block[None, :, :]).sum(axis=1)
    out[...] = acc
