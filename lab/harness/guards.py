"""Watches a candidate while it is imported and while it runs, for the cheats its source can
hide: a library product called through an alias, a thread or stream started, a timer or
library replaced, a precision flag turned, work left running after the call."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager

import numpy

# Functions that compute the op or a product: called while a candidate runs, it is cheating.
NUMPY_PRODUCTS = ("matmul", "dot", "vdot", "inner", "einsum", "tensordot", "kron")
TORCH_PRODUCTS = {"matmul", "mm", "bmm", "mv", "addmm", "addbmm", "baddbmm", "einsum", "tensordot", "inner", "dot",
                  "linear", "bilinear", "scaled_dot_product_attention", "__matmul__", "__rmatmul__", "chain_matmul"}


class Guard:
    """One candidate's watch: findings accumulate as `(cheat, reason)` pairs."""

    def __init__(self) -> None:
        self.findings: list[tuple[str, str]] = []
        self._identities = {label: id(getattr(owner, name, None)) for label, owner, name in self._watched()}
        self._flags = self._precision_flags()
        self._threads = set(threading.enumerate())
        self._stream = self._current_stream()

    @staticmethod
    def _watched() -> list[tuple[str, object, str]]:
        """Timers and libraries a candidate must leave as they are."""
        items = [(f"time.{name}", time, name) for name in ("perf_counter", "perf_counter_ns", "time", "monotonic", "process_time")]
        items += [(f"numpy.{name}", numpy, name) for name in NUMPY_PRODUCTS + ("ndarray", "empty", "full", "array_equal")]
        items += [("threading.Thread.start", threading.Thread, "start")]
        torch = sys.modules.get("torch")
        if torch is not None:
            items += [(f"torch.{name}", torch, name) for name in ("matmul", "mm", "bmm", "einsum", "equal", "full", "empty")]
            items += [("torch.Tensor.__matmul__", torch.Tensor, "__matmul__"),
                      ("torch.nn.functional.scaled_dot_product_attention", torch.nn.functional, "scaled_dot_product_attention")]
            items += [(f"torch.cuda.{name}", torch.cuda, name) for name in ("synchronize", "Event", "current_stream", "Stream")]
            items += [("torch.cuda.Event.elapsed_time", torch.cuda.Event, "elapsed_time"),
                      ("torch.cuda.Event.record", torch.cuda.Event, "record")]
        testing = sys.modules.get("triton.testing")
        if testing is not None:
            items += [("triton.testing.do_bench", testing, "do_bench")]
        return items

    @staticmethod
    def _precision_flags() -> dict[str, object]:
        torch = sys.modules.get("torch")
        if torch is None:
            return {}
        return {"torch.backends.cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
                "torch.backends.cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
                "torch.float32_matmul_precision": torch.get_float32_matmul_precision(),
                "torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction":
                    torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction}

    @staticmethod
    def _current_stream():
        torch = sys.modules.get("torch")
        if torch is None or not torch.cuda.is_available():
            return None
        return torch.cuda.current_stream().cuda_stream

    @contextmanager
    def watching(self):
        """While the candidate runs: library products and thread or stream starts are recorded
        (and still performed, so the candidate fails as a cheat, not with an odd error)."""
        replaced: list[tuple[object, str, object, object, str]] = []

        def trip(owner, name: str, label: str, cheat: str, reason: str) -> None:
            original = getattr(owner, name, None)
            if original is None:
                return

            def wrapper(*args, **kwargs):
                self.findings.append((cheat, reason))
                return original(*args, **kwargs)

            setattr(owner, name, wrapper)
            replaced.append((owner, name, original, wrapper, label))

        for name in NUMPY_PRODUCTS:
            trip(numpy, name, f"numpy.{name}", "reference-library", f"called numpy.{name} while running")
        trip(threading.Thread, "start", "threading.Thread.start", "stream-or-thread", "started a thread while running")
        torch = sys.modules.get("torch")
        mode = None
        if torch is not None:
            for name in ("Stream", "set_stream", "stream"):
                trip(torch.cuda, name, f"torch.cuda.{name}", "stream-or-thread", f"used torch.cuda.{name}: work must run on the caller's stream")
            mode = _product_watch(torch, self.findings)
            mode.__enter__()
        try:
            yield
        finally:
            if mode is not None:
                mode.__exit__(None, None, None)
            for owner, name, original, wrapper, label in reversed(replaced):
                if getattr(owner, name, None) is not wrapper:
                    self.findings.append(("monkey-patch", f"replaced {label}"))
                setattr(owner, name, original)

    def check(self) -> list[tuple[str, str]]:
        """Everything seen so far, with what changed since the guard was made."""
        findings = list(self.findings)
        for label, owner, name in self._watched():
            if id(getattr(owner, name, None)) != self._identities.get(label, id(getattr(owner, name, None))):
                findings.append(("monkey-patch", f"replaced {label}"))
        for flag, value in self._precision_flags().items():
            if self._flags.get(flag, value) != value:
                findings.append(("low-precision", f"changed {flag} to {value!r}"))
        started = [thread for thread in threading.enumerate() if thread not in self._threads and thread.is_alive()]
        if started:
            findings.append(("stream-or-thread", f"left {len(started)} thread(s) running after the call"))
        if self._current_stream() != self._stream:
            findings.append(("stream-or-thread", "changed the current CUDA stream"))
        unique = list(dict.fromkeys(findings))
        return unique


def _product_watch(torch, findings: list):
    """A torch function mode that records product calls made through any alias or method."""

    class ProductWatch(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = getattr(func, "__name__", "")
            if name in TORCH_PRODUCTS:
                findings.append(("reference-library", f"called torch {name} while running"))
            return func(*args, **(kwargs or {}))

    return ProductWatch()
