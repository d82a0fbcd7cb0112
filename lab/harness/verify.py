"""`verify`: a candidate's results against a float64 reference, on fresh random inputs per
trial, at several shapes including ragged ones, with its outputs pre-filled with NaN, its
inputs checked unchanged, and a guard on every call. The candidate runs in its own process;
this one makes the same inputs from the same seeds, and computes and compares."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .ops import TOLERANCES, Case, Op, case_inputs
from .rejection import Rejection
from .sandbox import Sandbox
from .static_check import scan


def read_and_scan(path: str, dtype: str) -> None:
    """Refuses a candidate that cannot be read or whose source shows a cheat, before any of it runs."""
    try:
        source = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise Rejection("error", f"cannot read {path}: {error}") from None
    findings = scan(source, dtype)
    if findings:
        first = findings[0]
        raise Rejection(first.cheat, f"{path}:{first.line}: {first.reason}",
                        [{"cheat": f.cheat, "line": f.line, "reason": f.reason} for f in findings])


def check_case(box: Sandbox, op: Op, case: Case, dtype: str, seeds: np.random.Generator, trials: int) -> dict:
    """Runs one case `trials` times with fresh inputs; the case's report, or `Rejection`."""
    atol, rtol = TOLERANCES[dtype]
    worst_abs = worst_rel = 0.0
    previous = None
    for trial in range(trials):
        seed = int(seeds.integers(2**62))
        result, after = box.ask("call", case.shape, case.causal, seed, True)
        inputs = case_inputs(op, case, seed, dtype)
        if not all(np.array_equal(given, kept) for given, kept in zip(after, inputs)):
            raise Rejection("input-mutation", f"at {case.label}: changes its inputs")
        unwritten = np.isnan(result)
        if unwritten.any():
            where = tuple(int(i) for i in np.argwhere(unwritten)[0])
            raise Rejection("incomplete", f"at {case.label}: leaves {int(unwritten.sum())} of {result.size} output elements "
                                          f"unwritten (NaN), first at {where}")
        if not np.isfinite(result).all():
            raise Rejection("non-finite", f"at {case.label}: writes Inf")
        expected = op.reference(inputs, case)
        if previous is not None and np.array_equal(result, previous[0]) and not np.allclose(expected, previous[1]):
            raise Rejection("caching", f"at {case.label}: the same result for different inputs (cached between calls?)")
        previous = (result, expected)
        error = np.abs(result - expected)
        bound = atol + rtol * np.abs(expected)
        worst_abs = max(worst_abs, float(error.max()))
        worst_rel = max(worst_rel, float((error / np.maximum(np.abs(expected), 1e-6)).max()))
        if (error > bound).any():
            where = tuple(int(i) for i in np.unravel_index(int(np.argmax(error - bound)), error.shape))
            detail = (f"at {case.label}, trial {trial + 1}: element {where} is {result[where]:.6g}, expected "
                      f"{expected[where]:.6g} (tolerance {atol:g} + {rtol:g}·|expected| for {dtype})")
            if dtype == "fp32" and float(error.max()) < 5e-2:
                raise Rejection("low-precision", detail + ": errors of the size of TF32 or fp16 rounding, not fp32")
            raise Rejection("wrong-result", detail)
    return {"case": case.label, "ok": True, "trials": trials, "max_abs_error": worst_abs, "max_rel_error": worst_rel}


def verify(op: Op, path: str, device: str, dtype: str, causal: list[bool], trials: int, seed: int, timeout: float) -> dict:
    """The verification report: `ok`, and on failure the cheat or error and its reason.
    Raises `UsageError` for a device or dtype that cannot be served."""
    report = {"command": "verify", "op": op.name, "candidate": path, "device": device, "dtype": dtype, "ok": False,
              "cases": []}
    seeds = np.random.default_rng(seed)
    try:
        read_and_scan(path, dtype)
        with Sandbox(device, dtype, timeout) as box:
            report.update(device=box.device, device_name=box.device_name)
            box.ask("load", path, op.name)
            for case in op.verify_cases(box.device, causal):
                report["cases"].append(check_case(box, op, case, dtype, seeds, trials))
    except Rejection as rejection:
        report.update(cheat=rejection.cheat, reason=rejection.reason)
        if rejection.findings:
            report["findings"] = rejection.findings
        return report
    report["ok"] = True
    return report
