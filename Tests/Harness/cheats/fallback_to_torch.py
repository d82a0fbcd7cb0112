# expect: fallback
"""Falls back to PyTorch when its own kernel raises."""


def matmul(a, b, out):
    try:
        raise RuntimeError("kernel not ready")
    except RuntimeError:
        import torch
        out[...] = torch.from_numpy(a).matmul(torch.from_numpy(b)).numpy()
