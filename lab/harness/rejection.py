"""Why a candidate is refused: the cheat (or `error`) it was caught at, in words."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Rejection(Exception):
    """A candidate that cannot be accepted. `findings` lists everything seen, when more than one."""

    cheat: str
    reason: str
    findings: list = field(default_factory=list)
