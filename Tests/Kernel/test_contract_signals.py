"""Ctrl-C and SIGTERM (issue "[contract]", item 7): the run stops cleanly between
instructions, says where and how to go on, and its record and exports are up to date; a
command killed by the stop is not recorded and runs again on resume."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import jsonschema

from conftest import run_folders, spak, spak_binary
from test_contract import CONTRACT, SCHEMAS, Run

TRACE_SCHEMA = json.loads((SCHEMAS / "trace.schema.json").read_text())


def started(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([str(spak_binary()), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def stop(process: subprocess.Popen, signum: int, after: float, once: Path, within: float = 20) -> tuple[str, str, float]:
    """Sends `signum` `after` seconds after `once` exists (a folder's first entry, or a file);
    returns stdout, stderr and how long spak took to exit."""
    deadline = time.monotonic() + 20
    while not (once.exists() and (not once.is_dir() or any(not p.name.startswith(".") for p in once.iterdir()))) and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.02)
    time.sleep(after)
    assert process.poll() is None, "spak ended before the signal: " + "".join(process.communicate())
    sent = time.monotonic()
    process.send_signal(signum)
    try:
        stdout, stderr = process.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"spak did not stop within {within} s of the signal")
    return stdout, stderr, time.monotonic() - sent


def steps_in_status(folder: Path, cwd: Path) -> int:
    status = spak("status", folder.name, "--runs-dir", str(folder.parent), cwd=cwd, check_code=0).stdout
    return int(re.search(r"^steps:\s+(\d+)", status, re.M).group(1))


def check_trace(run: Run, signal_name: str, events: list[dict]) -> dict:
    trace = run.trace()
    # The schema of the run and of a sample of the events (the whole list is long).
    jsonschema.validate({**trace, "events": trace["events"][:300] + trace["events"][-50:]}, TRACE_SCHEMA)
    assert trace["run"]["status"] == "interrupted" and trace["run"]["interrupted_by"] == signal_name
    assert trace["events"] == events
    assert run.metrics()["status"] == "interrupted"
    return trace


def test_sigint_then_sigterm_stop_a_long_loop_cleanly(tmp_path: Path) -> None:
    process = started(["run", str(CONTRACT / "interrupt_loop.spak"), "--runs-dir", "runs"], tmp_path)
    stdout, stderr, took = stop(process, signal.SIGINT, after=0.5, once=tmp_path / "runs")
    assert process.returncode == 130, stdout + stderr
    assert took < 10
    (folder,) = run_folders(tmp_path / "runs")
    run = Run(subprocess.CompletedProcess([], 130, stdout, stderr), folder, tmp_path)
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    match = re.fullmatch(r"run (\S+) stopped by SIGINT (in step `s`|between steps) after (\d+) steps?, .*; "
                         r"go on with: (.*)", lines[0])
    assert match, lines[0]
    assert match.group(1) == folder.name
    command = match.group(4)
    assert shlex.split(command) == ["spak", "step", "--resume", folder.name, "--runs-dir", "runs"]
    steps = steps_in_status(folder, tmp_path)
    assert steps == int(match.group(3)) > 0
    events = run.events
    trace = check_trace(run, "SIGINT", events)
    assert ("in_step" in trace["run"]) == (match.group(2) == "in step `s`")
    first_values = [e["value"] for e in events if e["type"] == "var.bound" and e["name"] == "i"]

    # The printed command goes on from there; SIGTERM stops it the same way (exit 143).
    words = shlex.split(command)
    process = started(words[1:], tmp_path)
    stdout, stderr, _ = stop(process, signal.SIGTERM, after=0.5, once=tmp_path / "runs")
    assert process.returncode == 143, stdout + stderr
    assert re.fullmatch(rf"run {folder.name} stopped by SIGTERM (in step `s`|between steps) after \d+ steps?, .*; "
                        r"go on with: spak step --resume \S+ --runs-dir runs\n", stdout), stdout
    assert steps_in_status(folder, tmp_path) > steps
    events = run.events
    check_trace(run, "SIGTERM", events)
    values = [e["value"] for e in events if e["type"] == "var.bound" and e["name"] == "i"]
    assert values[: len(first_values)] == first_values
    assert values == list(range(1, len(values) + 1)), "no pass of the loop is lost or done twice"
    finished = [e["step"] for e in events if e["type"] == "step.finished"]
    assert len(finished) == steps_in_status(folder, tmp_path)
    # A step the first stop cut in two was still checked when it ended.
    checks = [e for e in events if e["type"] == "invariant.checked"]
    assert len(checks) == len(finished) and all(e["ok"] and e["step"] == "s" for e in checks)


def live_run_sleeping(tmp_path: Path) -> tuple[Path, subprocess.Popen]:
    """`spak run --live` of a program whose command sleeps 30 s (the workspace's delay.txt)."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "delay.txt").write_text("30")
    process = started(["run", str(CONTRACT / "interrupt_live.spak"), "--live", "--workspace", str(workspace),
                       "--runs-dir", "runs"], tmp_path)
    return workspace, process


def test_sigint_kills_a_live_command_and_it_runs_again_on_resume(tmp_path: Path) -> None:
    workspace, process = live_run_sleeping(tmp_path)
    stdout, stderr, took = stop(process, signal.SIGINT, after=0.3, once=workspace / "started.txt")
    assert process.returncode == 130, stdout + stderr
    assert took < 10, "the command must be killed, not waited for"
    (folder,) = run_folders(tmp_path / "runs")
    run = Run(subprocess.CompletedProcess([], 130, stdout, stderr), folder, tmp_path)
    assert f"run {folder.name} stopped by SIGINT in step `nap`" in stdout
    assert [e["effect"] for e in run.of_type("effect.requested")] == ["tool.run"]
    assert run.of_type("effect.answered") == [], "nothing of the killed command is recorded"
    trace = run.trace()
    assert trace["run"]["status"] == "interrupted" and trace["run"]["interrupted_by"] == "SIGINT"
    assert trace["run"].get("in_step") == "nap"
    assert not any(e["type"] == "effect.answered" for e in trace["events"])
    jsonschema.validate(trace, TRACE_SCHEMA)

    (workspace / "delay.txt").write_text("0")
    resumed = spak("step", "--resume", folder.name, "--runs-dir", "runs", "--live", "--workspace", str(workspace),
                   cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    requested = [e for e in run.events if e["type"] == "effect.requested"]
    assert [e.get("reexecuted", False) for e in requested][-1] is True
    (answered,) = run.of_type("effect.answered")
    assert answered["answered_by"] == "live" and answered["result"]["exit_code"] == 0
    assert run.bound("rested") == ["rested"]


def test_sigint_while_resume_live_runs_a_pending_command_records_nothing(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "delay.txt").write_text("30")
    spak("run", str(CONTRACT / "interrupt_live.spak"), "--workspace", str(workspace), "--runs-dir", "runs",
         cwd=tmp_path, check_code=3)
    (folder,) = run_folders(tmp_path / "runs")
    before = (folder / "events.jsonl").read_bytes()
    process = started(["step", "--resume", folder.name, "--runs-dir", "runs", "--live", "--workspace", str(workspace)],
                      tmp_path)
    stdout, stderr, took = stop(process, signal.SIGINT, after=0.3, once=workspace / "started.txt")
    assert process.returncode == 130, stdout + stderr
    assert took < 10
    assert "nothing was recorded" in stderr and f"spak step --resume {folder.name} --runs-dir runs --live" in stderr
    assert (folder / "events.jsonl").read_bytes() == before
    assert json.loads((folder / "state.json").read_text())["status"]["name"] == "suspended"
    (workspace / "delay.txt").write_text("0")
    done = spak("step", "--resume", folder.name, "--runs-dir", "runs", "--live", "--workspace", str(workspace),
                cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    run = Run(done, folder, tmp_path)
    assert [e["answered_by"] for e in run.of_type("effect.answered")] == ["live"]
    assert run.bound("rested") == ["rested"]


def test_a_refused_resume_of_an_interrupted_run_changes_nothing(tmp_path: Path) -> None:
    workspace, process = live_run_sleeping(tmp_path)
    stop(process, signal.SIGINT, after=0.3, once=workspace / "started.txt")
    assert process.returncode == 130
    (folder,) = run_folders(tmp_path / "runs")
    before = {name: (folder / name).read_bytes() for name in ("events.jsonl", "state.json")}
    # A careless user answers by hand a run that is not waiting: refused (exit 4)...
    refused = spak("step", "--resume", folder.name, "--runs-dir", "runs", "--response", "-", input="rested",
                   cwd=tmp_path)
    assert refused.returncode == 4 and "is not waiting for an answer" in refused.stderr
    # ...and nothing already recorded may change (docs/cli.md: exit codes 2, 4, 5).
    after = {name: (folder / name).read_bytes() for name in ("events.jsonl", "state.json")}
    assert after == before
    (workspace / "delay.txt").write_text("0")
    done = spak("step", "--resume", folder.name, "--runs-dir", "runs", "--live", "--workspace", str(workspace),
                cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    run = Run(done, folder, tmp_path)
    assert [e.get("reexecuted", False) for e in run.of_type("effect.requested")][-1] is True
