"""Loading a candidate in its own process: imported under a guard, its entry point looked up.
(Its source was checked by the checker's process before this process started.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .guards import Guard
from .rejection import Rejection


def load(path: str, op):
    """The candidate's entry point for `op`; raises `Rejection`."""
    guard = Guard(path)
    spec = importlib.util.spec_from_file_location(f"candidate_{op.name}", Path(path))
    module = importlib.util.module_from_spec(spec)
    try:
        with guard.watching(tripwires=False):
            spec.loader.exec_module(module)
    except Exception as error:  # the candidate's own failure, reported, never hidden
        raise Rejection("error", f"importing {path} failed: {type(error).__name__}: {error}") from None
    guard.refuse_if_caught("while importing: ")
    entry = getattr(module, op.name, None)
    if not callable(entry):
        raise Rejection("error", f"{path} defines no `{op.signature}`")
    return entry
