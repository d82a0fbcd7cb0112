"""Where candidates run: NumPy on the CPU, or PyTorch tensors on a CUDA device. A backend
makes inputs in the claimed dtype, fills outputs with NaN, reads results back in float64,
synchronizes, and times calls."""

from __future__ import annotations

import platform
import time

import numpy as np


class UsageError(Exception):
    """A request the harness cannot serve (an unknown dtype, no CUDA device)."""


class Skipped(Exception):
    """A timed call left part of its output unwritten."""


class CpuBackend:
    """NumPy arrays on the CPU: small sizes, the same checks as on a GPU."""

    device = "cpu"
    array_types = (np.ndarray,)
    timer = "time.perf_counter per call after two warm-up calls, output refilled with NaN between calls; median"

    def __init__(self, dtype: str):
        dtypes = {"fp32": np.float32, "fp16": np.float16}
        if dtype not in dtypes:
            raise UsageError(f"--dtype {dtype}: the CPU path has fp32 and fp16 (bf16 needs a CUDA device)")
        self.dtype = dtypes[dtype]
        self.device_name = platform.processor() or platform.machine() or "cpu"

    def put(self, values: np.ndarray):
        """An array of the claimed dtype holding `values` (already rounded to it: exact)."""
        return np.ascontiguousarray(values.astype(self.dtype))

    def nan(self, shape: tuple[int, ...]):
        return np.full(shape, np.nan, dtype=self.dtype)

    def float64(self, array) -> np.ndarray:
        return np.asarray(array, dtype=np.float64)

    def sync(self) -> None:
        pass

    def times_ms(self, call, out, repeats: int) -> list[float]:
        """Each call timed alone after two warm-up calls; `out` is refilled with NaN before
        each (outside the timing), and a call that leaves NaN in it is reported."""
        call()
        call()
        times = []
        for _ in range(repeats):
            out[...] = np.nan
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
            if np.isnan(out).any():
                raise Skipped()
        return times

    def library(self, op: str, arguments: tuple):
        """The reference library's call for the op, writing into the same output."""
        if op in ("matmul", "bmm"):
            a, b, out = arguments
            return lambda: np.matmul(a, b, out=out)
        q, k, v, out, causal, scale = arguments

        def attention():
            scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
            if causal:
                seq = q.shape[2]
                scores = np.where(np.triu(np.ones((seq, seq), dtype=bool), 1), -np.inf, scores)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            np.matmul(scores / scores.sum(axis=-1, keepdims=True), v, out=out)
        return attention

    def peak_call(self):
        """A large square product by the library: the measured peak of this device (its call,
        output and FLOPs)."""
        size = 512
        a, b = self.put(np.ones((size, size))), self.put(np.ones((size, size)))
        out = self.nan((size, size))
        return (lambda: np.matmul(a, b, out=out)), out, 2.0 * size**3


class CudaBackend:
    """PyTorch tensors on the current CUDA device; Triton candidates."""

    device = "cuda"
    timer = "CUDA events per call after warm-up, L2 flushed and output refilled with NaN between calls, each call synchronized; median"

    def __init__(self, dtype: str):
        import torch

        if not torch.cuda.is_available():
            raise UsageError("--device cuda: no CUDA device is available")
        dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
        if dtype not in dtypes:
            raise UsageError(f"--dtype {dtype}: not one of fp32, fp16, bf16")
        self.torch = torch
        self.dtype = dtypes[dtype]
        self.array_types = (torch.Tensor,)
        self.device_name = torch.cuda.get_device_name()
        # fp32 means fp32: the library's own reference runs must not use TF32 either.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    def put(self, values: np.ndarray):
        """A tensor of the claimed dtype holding `values` (already rounded to it: exact)."""
        return self.torch.from_numpy(values).to(device="cuda", dtype=self.dtype).contiguous()

    def nan(self, shape):
        return self.torch.full(shape, float("nan"), device="cuda", dtype=self.dtype)

    def float64(self, tensor) -> np.ndarray:
        return tensor.detach().to(self.torch.float64).cpu().numpy()

    def sync(self) -> None:
        self.torch.cuda.synchronize()

    def times_ms(self, call, out, repeats: int) -> list[float]:
        """Each call timed alone with CUDA events after warm-up, the L2 cache flushed and `out`
        refilled with NaN before it (outside the timing), the device synchronized after it; a
        call that leaves NaN in `out` is reported."""
        torch = self.torch
        flush = torch.empty(256 * 1024 * 1024 // 4, dtype=torch.int32, device="cuda")
        for _ in range(3):
            call()
        torch.cuda.synchronize()
        times = []
        for _ in range(repeats):
            flush.zero_()
            out.fill_(float("nan"))
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            call()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
            if bool(torch.isnan(out).any()):
                raise Skipped()
        return times

    def library(self, op: str, arguments: tuple):
        torch = self.torch
        if op in ("matmul", "bmm"):
            a, b, out = arguments
            return lambda: torch.matmul(a, b, out=out)
        q, k, v, out, causal, scale = arguments
        # torch picks its best backend for these inputs (flash, memory-efficient or cuDNN).
        return lambda: out.copy_(torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale))

    def peak_call(self):
        size = 8192 if self.dtype != self.torch.float32 else 4096
        a = self.torch.ones((size, size), device="cuda", dtype=self.dtype)
        b = self.torch.ones((size, size), device="cuda", dtype=self.dtype)
        out = self.torch.empty((size, size), device="cuda", dtype=self.dtype)
        return (lambda: self.torch.matmul(a, b, out=out)), out, 2.0 * size**3


def backend(device: str, dtype: str):
    """The backend for `--device` (`auto`: CUDA when PyTorch sees a device, else the CPU)."""
    if device == "auto":
        try:
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        except ImportError:
            device = "cpu"
    if device == "cuda":
        try:
            return CudaBackend(dtype)
        except ImportError:
            raise UsageError("--device cuda needs PyTorch and Triton") from None
    if device == "cpu":
        return CpuBackend(dtype)
    raise UsageError(f"--device {device}: not auto, cpu or cuda")
