# expect: caching
"""Computes once per shape and replays the result for later calls, past the source check: the
second trial's fresh inputs get the first trial's result."""

RESULTS = {}


def matmul(a, b, out):
    key = (a.shape, b.shape)
    if key not in RESULTS:
        RESULTS[key] = (a[:, :, None].astype("float32") * b[None, :, :].astype("float32")).sum(axis=1)
    out[...] = RESULTS[key]
