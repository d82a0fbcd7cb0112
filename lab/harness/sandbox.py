"""The checker's handle on the candidate's own process (`worker.py`): commands go in, outputs,
rows and times come back. Nothing the candidate does there can reach the checker's references,
comparisons or clocks."""

from __future__ import annotations

import multiprocessing

from . import worker
from .backends import UsageError
from .rejection import Rejection


class Sandbox:
    """A started candidate process; use it in a `with` block so it always ends."""

    def __init__(self, device: str, dtype: str, timeout: float) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=worker.serve, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.timeout = timeout
        self.device, self.device_name, self.timer = self.ask("start", device, dtype)

    def ask(self, *message):
        """Sends a command and returns its reply; raises `Rejection` for what the candidate's
        process refused or a process that died or hung, `UsageError` for a bad request."""
        try:
            self.connection.send(message)
            if not self.connection.poll(self.timeout):
                self.process.kill()
                raise Rejection("error", f"the candidate's process gave no answer within {self.timeout:g} s and was stopped")
            reply = self.connection.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            self.process.join(5)
            raise Rejection("error", f"the candidate's process ended (exit code {self.process.exitcode})") from None
        if reply[0] == "refused":
            raise Rejection(reply[1], reply[2], reply[3])
        if reply[0] == "usage":
            raise UsageError(reply[1])
        return reply[1:]

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exception) -> None:
        try:
            self.connection.send(("stop",))
        except (BrokenPipeError, OSError):
            pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
