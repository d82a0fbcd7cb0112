"""Watches a candidate while it is imported and while it runs, in its own process, for the
cheats its source can hide: a library product called through an alias, a thread or stream
started, a timer or library replaced, a precision flag turned, work left running after the
call, and (through an audit hook, which cannot be removed) the candidate's own code reaching
for frames, the garbage collector's object lists, processes or native libraries."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager

import numpy

from .rejection import Rejection

# Functions that compute the op or a product: called while a candidate runs, it is cheating.
NUMPY_PRODUCTS = ("matmul", "dot", "vdot", "inner", "einsum", "tensordot", "kron")
TORCH_PRODUCTS = {"matmul", "mm", "bmm", "mv", "addmm", "addbmm", "baddbmm", "einsum", "tensordot", "inner", "dot",
                  "linear", "bilinear", "scaled_dot_product_attention", "__matmul__", "__rmatmul__", "chain_matmul"}


# Audit events the candidate's own code must not raise: reaching into the interpreter (frames,
# the collector's object lists, attributes set on types), other processes or native code.
# Introspection counts when the candidate's own code does it; processes and native code also
# when a library does it on the candidate's behalf, unless that library is PyTorch or Triton
# (Triton starts its compiler, for one).
INTROSPECTION = {"sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile", "gc.get_objects",
                 "gc.get_referrers", "gc.get_referents", "object.__setattr__", "object.__delattr__", "exec", "compile",
                 "open", "import"}
OUTSIDE = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill", "subprocess.Popen",
           "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "socket.connect"}
TRUSTED_LIBRARIES = ("/torch/", "/triton/")


class _Audit:
    """The process's one audit hook, active only while a guard watches."""

    def __init__(self) -> None:
        self.watch: tuple[str, list] | None = None  # the candidate's file, and where findings go
        self.busy = False
        sys.addaudithook(self.hook)

    def hook(self, event: str, args) -> None:
        if self.watch is None or self.busy or (event not in INTROSPECTION and event not in OUTSIDE):
            return
        self.busy = True
        try:
            path, findings = self.watch
            frame = sys._getframe(1)
            if event in INTROSPECTION:
                allowed_import = event == "import" and str(args[0]).split(".")[0] in _ALLOWED_AT_IMPORT
                if frame.f_code.co_filename == path and not allowed_import:
                    findings.append(("dynamic-code", f"reached `{event}` from its own code"))
                return
            while frame is not None and not any(part in frame.f_code.co_filename for part in TRUSTED_LIBRARIES):
                if frame.f_code.co_filename == path:
                    findings.append(("dynamic-code", f"reached `{event}`"))
                    return
                frame = frame.f_back
        finally:
            self.busy = False


# Modules the candidate's import statements may load (the source check allows only these).
_ALLOWED_AT_IMPORT = {"numpy", "torch", "triton", "math", "typing", "dataclasses", "functools", "itertools",
                      "__future__"}
_AUDIT: _Audit | None = None


class Guard:
    """One candidate's watch: findings accumulate as `(cheat, reason)` pairs."""

    def __init__(self, path: str) -> None:
        global _AUDIT
        if _AUDIT is None:
            _AUDIT = _Audit()
        self.path = str(path)
        self.findings: list[tuple[str, str]] = []
        self._identities = {label: id(getattr(owner, name, None)) for label, owner, name in self._watched()}
        self._flags = self._precision_flags()
        self._threads = set(threading.enumerate())
        self._stream = self._current_stream()

    @staticmethod
    def _watched() -> list[tuple[str, object, str]]:
        """Timers and libraries a candidate must leave as they are."""
        items = [(f"time.{name}", time, name) for name in ("perf_counter", "perf_counter_ns", "time", "monotonic", "process_time")]
        items += [(f"numpy.{name}", numpy, name) for name in NUMPY_PRODUCTS + ("ndarray", "empty", "full", "isnan")]
        items += [("threading.Thread.start", threading.Thread, "start")]
        torch = sys.modules.get("torch")
        if torch is not None:
            items += [(f"torch.{name}", torch, name) for name in ("matmul", "mm", "bmm", "einsum", "isnan", "full", "empty")]
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
    def watching(self, tripwires: bool = True):
        """While the candidate runs: library products and thread or stream starts are recorded
        (and still performed, so the candidate fails as a cheat, not with an odd error), and
        the audit hook watches its code. Not during its import (`tripwires=False`), so that it
        cannot keep a tripwire and call the library through it later."""
        replaced: list[tuple[object, str, object, object, str]] = []
        _AUDIT.watch = (self.path, self.findings)
        if not tripwires:
            try:
                yield
            finally:
                _AUDIT.watch = None
            return

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
            _AUDIT.watch = None
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

    def refuse_if_caught(self, prefix: str = "") -> None:
        """Raises `Rejection` for the first thing seen, listing all."""
        caught = self.check()
        if caught:
            raise Rejection(caught[0][0], prefix + caught[0][1], [{"cheat": c, "reason": r} for c, r in caught])


def _product_watch(torch, findings: list):
    """A torch function mode that records product calls made through any alias or method."""

    class ProductWatch(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = getattr(func, "__name__", "")
            if name in TORCH_PRODUCTS:
                findings.append(("reference-library", f"called torch {name} while running"))
            return func(*args, **(kwargs or {}))

    return ProductWatch()
