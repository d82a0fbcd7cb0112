"""The kernel harness: checks and times candidate kernels for matmul, bmm and fmha.

`python3 -m harness verify OP CANDIDATE --json` and `python3 -m harness bench OP CANDIDATE
--json` (see docs/harness.md). On a CUDA device the candidates are Triton kernels called with
PyTorch tensors and compared with PyTorch; without one, the same checks run on the CPU with
NumPy arrays at small sizes, and every result says which device produced it.
"""
