"""CPU candidate (NumPy): attention with an online softmax over blocks of keys (running max and
sum per query, fp32), never holding the whole S×S matrix; with `causal`, query i sees keys
0..i, and a block a query cannot see leaves its running values unchanged."""
import numpy as np

BLOCK = 32


def fmha(q, k, v, out, causal, scale):
    seq = q.shape[2]
    queries = q.astype(np.float32) * np.float32(scale)
    running_max = np.full(q.shape[:3], -np.inf, dtype=np.float32)
    running_sum = np.zeros(q.shape[:3], dtype=np.float32)
    acc = np.zeros(q.shape, dtype=np.float32)
    positions = np.arange(seq)
    for start in range(0, seq, BLOCK):
        keys = k[:, :, start:start + BLOCK].astype(np.float32)
        values = v[:, :, start:start + BLOCK].astype(np.float32)
        scores = (queries[:, :, :, None, :] * keys[:, :, None, :, :]).sum(axis=-1)
        if causal:
            hidden = positions[start:start + BLOCK][None, :] > positions[:, None]
            scores = np.where(hidden, -np.inf, scores)
        new_max = np.maximum(running_max, scores.max(axis=-1))
        shift = np.where(np.isneginf(new_max), 0.0, new_max).astype(np.float32)
        weights = np.exp(scores - shift[..., None])
        rescale = np.exp(running_max - shift)
        running_sum = running_sum * rescale + weights.sum(axis=-1)
        acc = acc * rescale[..., None] + (weights[..., None] * values[:, :, None, :, :]).sum(axis=-2)
        running_max = new_max
    out[...] = acc / running_sum[..., None]
