"""The candidate's own process. The checker (`sandbox.py`) starts it, and it does only what
touches the candidate: it imports it, calls it on inputs it makes from the checker's seeds,
times it, and sends back outputs, rows and times. The references, the comparisons and the
medians are computed in the checker's process, where the candidate cannot reach them."""

from __future__ import annotations

from .backends import Skipped, UsageError, backend as make_backend
from .candidate import load
from .guards import Guard
from .ops import OPS, Case, case_inputs
from .rejection import Rejection


class Worker:
    """The state of one candidate's process: the device, the entry point, the last call."""

    def __init__(self) -> None:
        self.backend = None
        self.op = None
        self.path = ""
        self.entry = None
        self.last = None  # (arguments, out) of the last call

    def start(self, device: str, dtype: str):
        self.backend = make_backend(device, dtype)
        self.dtype = dtype
        return self.backend.device, self.backend.device_name, self.backend.timer

    def load(self, path: str, op: str):
        self.op, self.path = OPS[op], path
        self.entry = load(path, self.op)
        return ()

    def call(self, shape: tuple, causal: bool, seed: int, full: bool):
        """One call on the inputs of `seed`; the output (and the inputs after the call) in
        float64 when `full`."""
        case = Case(tuple(shape), causal)
        inputs = [self.backend.put(values) for values in case_inputs(self.op, case, seed, self.dtype)]
        out = self.backend.nan(self.op.output_shape(case))
        arguments = self.op.arguments(inputs, out, case)
        guard = Guard(self.path)
        try:
            with guard.watching():
                returned = self.entry(*arguments)
                self.backend.sync()
        except Exception as error:  # the candidate's own failure
            guard.refuse_if_caught()
            raise Rejection("error", f"at {case.label}: raised {type(error).__name__}: {error}") from None
        guard.refuse_if_caught()
        if returned is not None and returned is not out:
            raise Rejection("returned-output", "returns a result instead of writing it into `out` (it must return None)")
        self.last = (arguments, out)
        if not full:
            return (None, None)
        return (self.backend.float64(out), [self.backend.float64(array) for array in inputs])

    def rows(self, rows: list):
        """Rows of the last output, in float64."""
        _, out = self.last
        return ([self.backend.float64(out[row]) for row in rows],)

    def time(self, what: str, repeats: int):
        """Per-call times in ms of the candidate or the library on the last call's arguments,
        or of the library's peak product (with its FLOPs)."""
        if what == "peak":
            call, out, flops = self.backend.peak_call()
            return (self.backend.times_ms(call, out, repeats), flops)
        arguments, out = self.last
        if what == "library":
            return (self.backend.times_ms(self.backend.library(self.op.name, arguments), out, repeats), None)
        guard = Guard(self.path)
        try:
            with guard.watching():
                times = self.backend.times_ms(lambda: self.entry(*arguments), out, repeats)
        except Skipped:
            raise Rejection("incomplete", "left part of its output unwritten in a timed call (work skipped while timed)") from None
        except Exception as error:
            guard.refuse_if_caught("while timed: ")
            raise Rejection("error", f"raised {type(error).__name__} while timed: {error}") from None
        guard.refuse_if_caught("while timed: ")
        return (times, None)


def serve(connection) -> None:
    """Answers the checker's commands until it says stop or goes away."""
    worker = Worker()
    while True:
        try:
            command, *arguments = connection.recv()
        except EOFError:
            return
        if command == "stop":
            return
        try:
            reply = ("ok", *getattr(worker, command)(*arguments))
        except Rejection as rejection:
            reply = ("refused", rejection.cheat, rejection.reason, rejection.findings)
        except UsageError as error:
            reply = ("usage", str(error))
        connection.send(reply)
