"""`bench`: a candidate's time against the reference library on the same inputs, its TFLOP/s,
and the fraction of the peak measured on the same device in the same run. Every timed call's
output is refilled with NaN before it and must be written; outputs are spot-checked against a
float64 reference at rows chosen after the calls (a kernel that skips work at large sizes
fails); medians are taken here, out of the candidate's reach; an implausible speedup is
measured again before it is believed."""

from __future__ import annotations

import math
import os
import statistics

import numpy as np

from .ops import TOLERANCES, Case, Op, case_inputs
from .rejection import Rejection
from .sandbox import Sandbox
from .verify import read_and_scan

# Speedups above this (or more than the measured peak) are measured again, then refused.
IMPLAUSIBLE_SPEEDUP = 10.0
IMPLAUSIBLE_PEAK_FRACTION = 1.1
PEAK_RUNS = 3


def spot_check(box: Sandbox, op: Op, case: Case, inputs: list, dtype: str, when: str) -> None:
    """Compares rows of the candidate's last output, chosen now from the system's randomness,
    with the float64 reference of this process's own inputs."""
    atol, rtol = TOLERANCES[dtype]
    rows = op.spot_rows(np.random.default_rng(int.from_bytes(os.urandom(8), "little")), case)
    (got,) = box.ask("rows", rows)
    got = np.stack(got)
    expected = op.reference_rows(inputs, case, rows)
    if not np.isfinite(got).all() or (np.abs(got - expected) > atol + rtol * np.abs(expected)).any():
        raise Rejection("wrong-result", f"at {case.label}: the output {when} is wrong in a spot check (work skipped at this size?)")


def measure(box: Sandbox, op: Op, case: Case, dtype: str, seed: int, repeats: int) -> dict:
    inputs = case_inputs(op, case, seed, dtype)
    box.ask("call", case.shape, case.causal, seed, False)
    spot_check(box, op, case, inputs, dtype, "of the first call")
    candidate_ms = statistics.median(box.ask("time", "candidate", repeats)[0])
    spot_check(box, op, case, inputs, dtype, "of the last timed call")
    reference_ms = statistics.median(box.ask("time", "library", repeats)[0])
    flops = op.flops(case)
    return {"case": case.label, "candidate_ms": candidate_ms, "reference_ms": reference_ms,
            "speedup": reference_ms / candidate_ms, "tflops": flops / (candidate_ms * 1e-3) / 1e12,
            "reference_tflops": flops / (reference_ms * 1e-3) / 1e12}


def implausible(result: dict, peak: float) -> bool:
    return result["speedup"] > IMPLAUSIBLE_SPEEDUP or result["tflops"] > IMPLAUSIBLE_PEAK_FRACTION * peak


def bench(op: Op, path: str, device: str, dtype: str, cases: list[Case], repeats: int, seed: int, timeout: float) -> dict:
    """The benchmark report. `ok` is false when the candidate is refused, fails a spot check,
    or its speedup stays implausible when measured again; `geomean_speedup` is then null.
    Raises `UsageError` for a device or dtype that cannot be served."""
    reference = {"matmul": "matmul", "bmm": "matmul (batched)", "fmha": "scaled dot-product attention"}[op.name]
    report = {"command": "bench", "op": op.name, "candidate": path, "device": device, "dtype": dtype,
              "ok": False, "results": [], "geomean_speedup": None}
    seeds = np.random.default_rng(seed)
    try:
        read_and_scan(path, dtype)
        with Sandbox(device, dtype, timeout) as box:
            report.update(device=box.device, device_name=box.device_name, timer=box.timer,
                          reference=("torch " if box.device == "cuda" else "numpy ") + reference)
            box.ask("load", path, op.name)
            peaks = []
            for _ in range(PEAK_RUNS):
                times, flops = box.ask("time", "peak", repeats)
                peaks.append(flops / (statistics.median(times) * 1e-3) / 1e12)
            report["peak_tflops"] = peak = max(peaks)
            for case in cases:
                call_seed = int(seeds.integers(2**62))
                result = measure(box, op, case, dtype, call_seed, repeats)
                if implausible(result, peak):
                    first = result["speedup"]
                    result = measure(box, op, case, dtype, call_seed, repeats)
                    result["remeasured"] = True
                    if implausible(result, peak):
                        report["results"].append(result)
                        raise Rejection("implausible-speedup",
                                        f"at {case.label}: {first:.1f}×, then {result['speedup']:.1f}× measured again, "
                                        f"{result['tflops']:.3g} TFLOP/s against a measured peak of {peak:.3g}: "
                                        "re-measure on a quiet device before believing it")
                result["peak_fraction"] = result["tflops"] / peak
                report["results"].append(result)
    except Rejection as rejection:
        report.update(cheat=rejection.cheat, reason=rejection.reason)
        if rejection.findings:
            report["findings"] = rejection.findings
        return report
    speedups = [result["speedup"] for result in report["results"]]
    report["geomean_speedup"] = math.exp(sum(math.log(s) for s in speedups) / len(speedups))
    report["ok"] = True
    return report
