"""Helpers for the kernel's process-level tests: real `spak` processes on real run folders."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "Tests" / "Fixtures" / "kernel"

# Fields that legitimately differ between two runs of the same program: wall-clock times,
# durations, sequence numbers (recovery events shift them), and recovery annotations.
VOLATILE = {"time", "duration_ms", "seq", "reexecuted", "created", "id", "source"}


def spak_binary() -> Path:
    configured = os.environ.get("SPAK_BIN")
    path = Path(configured) if configured else REPO_ROOT / ".build" / "debug" / "spak"
    path = path if path.is_absolute() else REPO_ROOT / path
    if not path.is_file():
        pytest.fail(f"spak binary not found at {path}; run `swift build` first", pytrace=False)
    return path


def spak(*args: str, cwd: Path, check_code: int | None = None, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(spak_binary()), *args], cwd=cwd, capture_output=True, text=True, timeout=120, **kwargs)
    if check_code is not None:
        assert result.returncode == check_code, f"spak {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def run_folders(runs_dir: Path) -> list[Path]:
    if not runs_dir.is_dir():
        return []
    return sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def normalized_events(run_folder: Path) -> list[dict]:
    """The trace's events without volatile fields and without recovery events."""
    trace = json.loads((run_folder / "trace.json").read_text())
    events = []
    for event in trace["events"]:
        if event["type"] == "recovery":
            continue
        events.append({key: value for key, value in event.items() if key not in VOLATILE})
    return events


def stable_counters(run_folder: Path) -> dict:
    metrics = json.loads((run_folder / "metrics.json").read_text())
    counters = {k: v for k, v in metrics["counters"].items() if k not in {"active_seconds", "step_times"}}
    runs = {name: time["runs"] for name, time in metrics["counters"]["step_times"].items()}
    return {"metrics": metrics["metrics"], "counters": counters, "step_runs": runs, "status": metrics["status"]}
