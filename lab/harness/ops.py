"""The three ops: the shapes they are verified at, their inputs, the float64 reference, their
FLOPs, and how a candidate is called."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# (atol, rtol) per dtype, against a float64 reference computed from the same rounded inputs,
# which are scaled so that results are of order 1. fp32 is tight enough that TF32 or fp16
# arithmetic fails it; fp16 and bf16 allow the rounding of the output and fp32 accumulation.
TOLERANCES = {"fp32": (2e-5, 2e-5), "fp16": (5e-3, 5e-3), "bf16": (2e-2, 2e-2)}


@dataclass(frozen=True)
class Case:
    """One shape to run an op at (and for fmha, whether the mask is causal)."""

    shape: tuple[int, ...]
    causal: bool = False

    @property
    def label(self) -> str:
        text = "x".join(str(n) for n in self.shape)
        return text + (" causal" if self.causal else "")


class Op:
    """What the harness needs to know about an op."""

    name = ""
    signature = ""

    def verify_cases(self, device: str, causal: list[bool]) -> list[Case]:
        raise NotImplementedError

    def bench_cases(self, text: str, causal: list[bool]) -> list[Case]:
        raise NotImplementedError

    def inputs(self, rng: np.random.Generator, case: Case) -> list[np.ndarray]:
        raise NotImplementedError

    def output_shape(self, case: Case) -> tuple[int, ...]:
        raise NotImplementedError

    def reference(self, inputs: list[np.ndarray], case: Case) -> np.ndarray:
        raise NotImplementedError

    def flops(self, case: Case) -> float:
        raise NotImplementedError

    def arguments(self, inputs: list, out, case: Case) -> tuple:
        return (*inputs, out)

    def spot_rows(self, rng: np.random.Generator, case: Case, count: int = 8) -> list[tuple[int, ...]]:
        """Rows of the output to check at a benchmark size (a full float64 reference there
        would cost more than the benchmark): index tuples into all but the last axis."""
        shape = self.output_shape(case)[:-1]
        return [tuple(int(rng.integers(0, n)) for n in shape) for _ in range(count)]

    def reference_rows(self, inputs: list[np.ndarray], case: Case, rows: list[tuple[int, ...]]) -> np.ndarray:
        raise NotImplementedError


def _scaled(rng: np.random.Generator, shape: tuple[int, ...], depth: int) -> np.ndarray:
    """Uniform values scaled so that a sum of `depth` products stays of order 1."""
    return rng.uniform(-1.0, 1.0, size=shape) / depth**0.25


def _sizes(text: str, parts: int, what: str) -> list[tuple[int, ...]]:
    shapes = []
    for item in text.split(","):
        numbers = item.strip().split("x")
        if len(numbers) == 1 and parts > 1:
            numbers = numbers * parts
        try:
            shape = tuple(int(n) for n in numbers)
        except ValueError:
            raise ValueError(f"{what}: `{item}` is not a size") from None
        if len(shape) != parts or min(shape) < 1:
            raise ValueError(f"{what}: `{item}` needs {parts} positive sizes joined by x")
        shapes.append(shape)
    return shapes


class Matmul(Op):
    name = "matmul"
    signature = "matmul(a, b, out)"

    def verify_cases(self, device, causal):
        if device == "cpu":
            shapes = [(64, 64, 64), (127, 33, 65), (1, 129, 7), (96, 200, 48)]
        else:
            shapes = [(512, 512, 512), (1000, 2000, 777), (17, 33, 65), (1, 4096, 1), (2048, 2048, 2048)]
        return [Case(shape) for shape in shapes]  # (M, K, N)

    def bench_cases(self, text, causal):
        return [Case(shape) for shape in _sizes(text, 3, "--sizes")]

    def inputs(self, rng, case):
        m, k, n = case.shape
        return [_scaled(rng, (m, k), k), _scaled(rng, (k, n), k)]

    def output_shape(self, case):
        m, _, n = case.shape
        return (m, n)

    def reference(self, inputs, case):
        a, b = inputs
        return np.matmul(a, b)

    def reference_rows(self, inputs, case, rows):
        a, b = inputs
        return np.stack([np.matmul(a[i], b) for (i,) in rows])

    def flops(self, case):
        m, k, n = case.shape
        return 2.0 * m * k * n


class Bmm(Op):
    name = "bmm"
    signature = "bmm(a, b, out)"

    def verify_cases(self, device, causal):
        if device == "cpu":
            shapes = [(2, 32, 32, 32), (3, 17, 65, 33), (1, 1, 64, 7)]
        else:
            shapes = [(8, 512, 512, 512), (3, 1000, 777, 333), (16, 1, 64, 1), (4, 17, 33, 65)]
        return [Case(shape) for shape in shapes]  # (B, M, K, N)

    def bench_cases(self, text, causal):
        return [Case(shape) for shape in _sizes(text, 4, "--shapes")]

    def inputs(self, rng, case):
        batch, m, k, n = case.shape
        return [_scaled(rng, (batch, m, k), k), _scaled(rng, (batch, k, n), k)]

    def output_shape(self, case):
        batch, m, _, n = case.shape
        return (batch, m, n)

    def reference(self, inputs, case):
        a, b = inputs
        return np.matmul(a, b)

    def reference_rows(self, inputs, case, rows):
        a, b = inputs
        return np.stack([np.matmul(a[z, i], b[z]) for z, i in rows])

    def flops(self, case):
        batch, m, k, n = case.shape
        return 2.0 * batch * m * k * n


class Fmha(Op):
    name = "fmha"
    signature = "fmha(q, k, v, out, causal, scale)"

    def verify_cases(self, device, causal):
        if device == "cpu":
            shapes = [(1, 2, 16, 64), (2, 1, 33, 64), (1, 1, 7, 128), (1, 1, 1, 64)]
        else:
            shapes = [(2, 4, 256, 64), (1, 2, 1000, 128), (1, 1, 1, 64), (2, 8, 1024, 128), (1, 3, 77, 64)]
        return [Case(shape, flag) for shape in shapes for flag in causal]  # (B, H, S, D)

    def bench_cases(self, text, causal):
        cases = []
        for shape in _sizes(text, 4, "--shapes"):
            if shape[3] not in (64, 128):
                raise ValueError(f"--shapes: head dimension {shape[3]} is not 64 or 128")
            cases += [Case(shape, flag) for flag in causal]
        return cases

    def inputs(self, rng, case):
        return [rng.uniform(-1.0, 1.0, size=case.shape) for _ in range(3)]

    def output_shape(self, case):
        return case.shape

    @staticmethod
    def scale(case: Case) -> float:
        return 1.0 / math.sqrt(case.shape[3])

    def arguments(self, inputs, out, case):
        q, k, v = inputs
        return (q, k, v, out, case.causal, self.scale(case))

    def _attend(self, q_rows: np.ndarray, k: np.ndarray, v: np.ndarray, positions: np.ndarray, causal: bool, scale: float):
        scores = np.matmul(q_rows, np.swapaxes(k, -1, -2)) * scale
        if causal:
            keys = np.arange(k.shape[-2])
            scores = np.where(keys[None, :] > positions[:, None], -np.inf, scores)
        scores = scores - scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        weights /= weights.sum(axis=-1, keepdims=True)
        return np.matmul(weights, v)

    def reference(self, inputs, case):
        q, k, v = inputs
        positions = np.arange(case.shape[2])
        return self._attend(q, k, v, positions, case.causal, self.scale(case))

    def reference_rows(self, inputs, case, rows):
        q, k, v = inputs
        return np.stack([self._attend(q[z, h, i:i + 1], k[z, h], v[z, h], np.array([i]), case.causal, self.scale(case))[0]
                         for z, h, i in rows])

    def flops(self, case):
        batch, heads, seq, dim = case.shape
        full = 4.0 * batch * heads * seq * seq * dim  # two matmuls
        return full / 2 if case.causal else full


OPS: dict[str, Op] = {op.name: op for op in (Matmul(), Bmm(), Fmha())}


def rounded(values: np.ndarray, dtype: str) -> np.ndarray:
    """Values rounded to `dtype` (to nearest, ties to even), held in float64: what a candidate
    is given, and what the reference is computed from. bf16 rounds through fp32, as a device
    conversion of fp32 does."""
    if dtype == "fp32":
        return values.astype(np.float32).astype(np.float64)
    if dtype == "fp16":
        return values.astype(np.float16).astype(np.float64)
    bits = values.astype(np.float32).view(np.uint32)
    bits = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return bits.view(np.float32).astype(np.float64)


def case_inputs(op: Op, case: Case, seed: int, dtype: str) -> list[np.ndarray]:
    """The inputs of one call, rounded to `dtype`: the checker and the candidate's process make
    the same ones from the same seed, so large inputs never cross between them."""
    return [rounded(values, dtype) for values in op.inputs(np.random.default_rng(seed), case)]
