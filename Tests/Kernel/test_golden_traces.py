"""The shipped examples, run offline with prepared answers, produce exactly the recorded
traces (times and durations aside). Re-record with SPAK_RECORD=1 (the test then fails, so a
re-recording is never mistaken for a pass)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO_ROOT, normalized_events, run_folders, spak

CASES = {
    "hello": ("examples/hello.spak", "examples/hello.answers.jsonl", [], 0),
    "matmul": ("examples/kernels/matmul.spak", "Tests/Fixtures/kernel/matmul.answers.jsonl",
               ["--workspace", "{workspace}"], 0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_trace(name: str, tmp_path: Path) -> None:
    program, answers, extra, code = CASES[name]
    workspace = tmp_path / "workspace"
    if extra:
        import shutil
        shutil.copytree(FIXTURES / "workspace", workspace)
    runs = tmp_path / "runs"
    args = [arg.replace("{workspace}", str(workspace)) for arg in extra]
    spak("run", program, "--answers", answers, "--runs-dir", str(runs), *args, cwd=REPO_ROOT, check_code=code)
    (folder,) = run_folders(runs)
    events = normalized_events(folder)
    golden = FIXTURES / "golden" / f"{name}.events.json"
    if os.environ.get("SPAK_RECORD") == "1":
        golden.write_text(json.dumps(events, indent=1, sort_keys=True) + "\n")
        pytest.fail(f"recorded {golden.name}; run again without SPAK_RECORD")
    assert events == json.loads(golden.read_text())
