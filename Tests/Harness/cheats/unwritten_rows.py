# expect: incomplete
"""Skips the last row of the output (the NaN the harness pre-filled stays)."""


def matmul(a, b, out):
    out[:-1] = (a[:-1, :, None].astype("float32") * b[None, :, :].astype("float32")).sum(axis=1)
