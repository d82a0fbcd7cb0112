"""`bench`: a candidate's time against the reference library on the same inputs, its TFLOP/s,
and the fraction of the peak measured on the same device in the same run. Every timed output
is spot-checked against a float64 reference (a kernel that skips work at large sizes fails),
and an implausible speedup is measured again before it is believed."""

from __future__ import annotations

import math

import numpy as np

from .candidate import Rejection, load
from .guards import Guard
from .ops import TOLERANCES, Case, Op
from .verify import run_call

# Speedups above this (or more than the measured peak) are measured again, then refused.
IMPLAUSIBLE_SPEEDUP = 10.0
IMPLAUSIBLE_PEAK_FRACTION = 1.1


def spot_check(backend, op: Op, case: Case, inputs: list, out, dtype: str, rng) -> None:
    """Compares a few rows of a benchmarked output with the float64 reference."""
    atol, rtol = TOLERANCES[dtype]
    rows = op.spot_rows(rng, case)
    values = [backend.float64(array) for array in inputs]
    expected = op.reference_rows(values, case, rows)
    result = backend.float64(out)
    got = np.stack([result[row] for row in rows])
    if not np.isfinite(got).all() or (np.abs(got - expected) > atol + rtol * np.abs(expected)).any():
        raise Rejection("wrong-result", f"at {case.label}: the benchmarked output is wrong in a spot check "
                                        "(work skipped at this size?)")


def measure(backend, op: Op, entry, case: Case, dtype: str, rng, repeats: int) -> dict:
    inputs = [backend.put(values) for values in op.inputs(rng, case)]
    out = backend.nan(op.output_shape(case))
    arguments = op.arguments(inputs, out, case)
    run_call(backend, entry, arguments, out)
    spot_check(backend, op, case, inputs, out, dtype, rng)
    guard = Guard()
    with guard.watching():
        candidate_ms = backend.time_ms(lambda: entry(*arguments), repeats)
    caught = guard.check()
    if caught:
        raise Rejection(caught[0][0], f"while timed: {caught[0][1]}")
    reference_ms = backend.time_ms(backend.library(op.name, arguments), repeats)
    # The output the timing left must still be right: a kernel cannot skip work once timed.
    out_again = backend.nan(op.output_shape(case))
    arguments = op.arguments(inputs, out_again, case)
    run_call(backend, entry, arguments, out_again)
    spot_check(backend, op, case, inputs, out_again, dtype, rng)
    flops = op.flops(case)
    return {"case": case.label, "candidate_ms": candidate_ms, "reference_ms": reference_ms,
            "speedup": reference_ms / candidate_ms, "tflops": flops / (candidate_ms * 1e-3) / 1e12,
            "reference_tflops": flops / (reference_ms * 1e-3) / 1e12}


def bench(op: Op, path: str, backend, dtype: str, cases: list[Case], repeats: int, seed: int) -> dict:
    """The benchmark report. `ok` is false when the candidate is refused, fails a spot check,
    or its speedup stays implausible when measured again; `geomean_speedup` is then null."""
    reference = {"matmul": "matmul", "bmm": "matmul (batched)", "fmha": "scaled dot-product attention"}[op.name]
    report = {"command": "bench", "op": op.name, "candidate": path, "device": backend.device,
              "device_name": backend.device_name, "dtype": dtype, "timer": backend.timer,
              "reference": ("torch " if backend.device == "cuda" else "numpy ") + reference,
              "ok": False, "results": [], "geomean_speedup": None}
    rng = np.random.default_rng(seed)
    try:
        entry = load(path, op, dtype)
        peak_call, peak_flops = backend.peak_call()
        peak_ms = backend.time_ms(peak_call, repeats)
        report["peak_tflops"] = peak_flops / (peak_ms * 1e-3) / 1e12
        for case in cases:
            result = measure(backend, op, entry, case, dtype, rng, repeats)
            if result["speedup"] > IMPLAUSIBLE_SPEEDUP or result["tflops"] > IMPLAUSIBLE_PEAK_FRACTION * report["peak_tflops"]:
                first = result["speedup"]
                result = measure(backend, op, entry, case, dtype, rng, repeats)
                result["remeasured"] = True
                if result["speedup"] > IMPLAUSIBLE_SPEEDUP or result["tflops"] > IMPLAUSIBLE_PEAK_FRACTION * report["peak_tflops"]:
                    report["results"].append(result)
                    raise Rejection("implausible-speedup",
                                    f"at {case.label}: {first:.1f}×, then {result['speedup']:.1f}× measured again, "
                                    f"{result['tflops']:.1f} TFLOP/s against a measured peak of {report['peak_tflops']:.1f}: "
                                    "re-measure on a quiet device before believing it")
            result["peak_fraction"] = result["tflops"] / report["peak_tflops"]
            report["results"].append(result)
    except Rejection as rejection:
        report.update(cheat=rejection.cheat, reason=rejection.reason)
        return report
    speedups = [result["speedup"] for result in report["results"]]
    report["geomean_speedup"] = math.exp(sum(math.log(s) for s in speedups) / len(speedups))
    report["ok"] = True
    return report
