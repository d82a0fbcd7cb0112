"""Loading a candidate: its source is checked before any of it runs, then it is imported under
a guard, and its entry point looked up."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from .guards import Guard
from .static_check import scan


@dataclass
class Rejection(Exception):
    """A candidate that cannot be accepted: the cheat it was caught at (or `error`), and why."""

    cheat: str
    reason: str
    findings: list = field(default_factory=list)


def load(path: str, op, dtype: str):
    """The candidate's entry point for `op`; raises `Rejection`."""
    file = Path(path)
    try:
        source = file.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise Rejection("error", f"cannot read {path}: {error}") from None
    findings = scan(source, dtype)
    if findings:
        first = findings[0]
        raise Rejection(first.cheat, f"{path}:{first.line}: {first.reason}",
                        [{"cheat": f.cheat, "line": f.line, "reason": f.reason} for f in findings])
    guard = Guard()
    spec = importlib.util.spec_from_file_location(f"candidate_{op.name}", file)
    module = importlib.util.module_from_spec(spec)
    try:
        with guard.watching():
            spec.loader.exec_module(module)
    except Exception as error:  # the candidate's own failure, reported, never hidden
        raise Rejection("error", f"importing {path} failed: {type(error).__name__}: {error}") from None
    caught = guard.check()
    if caught:
        raise Rejection(caught[0][0], f"while importing: {caught[0][1]}",
                        [{"cheat": cheat, "reason": reason} for cheat, reason in caught])
    entry = getattr(module, op.name, None)
    if not callable(entry):
        raise Rejection("error", f"{path} defines no `{op.signature}`")
    return entry
