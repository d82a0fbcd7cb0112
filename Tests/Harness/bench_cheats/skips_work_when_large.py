# expect: wrong-result
"""Right at the small shapes verify uses, but writes zeros at benchmark sizes (skipping the work
where it is timed): the benchmark's spot checks see it."""
import numpy as np


def matmul(a, b, out):
    if a.shape[0] > 200:
        out[...] = 0
        return
    acc = np.zeros(out.shape, dtype=np.float32)
    for start in range(0, a.shape[1], 16):
        acc += (a[:, start:start + 16, None].astype(np.float32) * b[None, start:start + 16].astype(np.float32)).sum(axis=1)
    out[...] = acc
