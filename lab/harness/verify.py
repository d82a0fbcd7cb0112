"""`verify`: a candidate's results against a float64 reference, on fresh random inputs per
trial, at several shapes including ragged ones, with its outputs pre-filled with NaN, its
inputs checked unchanged, and a guard on every call."""

from __future__ import annotations

import numpy as np

from .candidate import Rejection, load
from .guards import Guard
from .ops import TOLERANCES, Case, Op


def run_call(backend, entry, arguments: tuple, out) -> None:
    """Calls the candidate once under a guard; raises `Rejection` for what the guard saw or a
    returned value that is not `out` (results are written, not returned)."""
    guard = Guard()
    try:
        with guard.watching():
            returned = entry(*arguments)
            backend.sync()
    except Rejection:
        raise
    except Exception as error:  # the candidate's own failure
        raise Rejection("error", f"raised {type(error).__name__}: {error}") from None
    caught = guard.check()
    if caught:
        raise Rejection(caught[0][0], caught[0][1], [{"cheat": c, "reason": r} for c, r in caught])
    if returned is not None and returned is not out:
        raise Rejection("returned-output", "returns a result instead of writing it into `out` (it must return None)")


def check_case(backend, op: Op, entry, case: Case, dtype: str, rng: np.random.Generator, trials: int) -> dict:
    """Runs one case `trials` times with fresh inputs; the case's report, or `Rejection`."""
    atol, rtol = TOLERANCES[dtype]
    worst_abs = worst_rel = 0.0
    previous = None
    for trial in range(trials):
        inputs = [backend.put(values) for values in op.inputs(rng, case)]
        kept = [backend.copy(array) for array in inputs]
        out = backend.nan(op.output_shape(case))
        run_call(backend, entry, op.arguments(inputs, out, case), out)
        if not all(backend.same(array, copy) for array, copy in zip(inputs, kept)):
            raise Rejection("input-mutation", f"at {case.label}: changes its inputs")
        result = backend.float64(out)
        unwritten = np.isnan(result)
        if unwritten.any():
            where = tuple(int(i) for i in np.argwhere(unwritten)[0])
            raise Rejection("incomplete", f"at {case.label}: leaves {int(unwritten.sum())} of {result.size} output elements unwritten (NaN), first at {where}")
        if not np.isfinite(result).all():
            raise Rejection("non-finite", f"at {case.label}: writes Inf")
        expected = op.reference([backend.float64(array) for array in inputs], case)
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


def verify(op: Op, path: str, backend, dtype: str, causal: list[bool], trials: int, seed: int) -> dict:
    """The verification report: `ok`, and on failure the cheat or error and its reason."""
    report = {"command": "verify", "op": op.name, "candidate": path, "device": backend.device,
              "device_name": backend.device_name, "dtype": dtype, "ok": False, "cases": []}
    rng = np.random.default_rng(seed)
    try:
        entry = load(path, op, dtype)
        for case in op.verify_cases(backend.device, causal):
            report["cases"].append(check_case(backend, op, entry, case, dtype, rng, trials))
    except Rejection as rejection:
        report.update(cheat=rejection.cheat, reason=rejection.reason)
        if rejection.findings:
            report["findings"] = rejection.findings
        return report
    report["ok"] = True
    return report
