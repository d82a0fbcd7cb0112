"""What a run records and prints (issue "[contract]", items 5, 6, 8, 9, 10, 11): pending
tool.run commands and `--live`, the exported trace.json and metrics.json at every stop,
locations in messages, run ids, budgets and caps."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from conftest import run_folders, spak, spak_binary
from test_contract import CONTRACT, SCHEMAS, Run, expect, start

TRACE_SCHEMA = json.loads((SCHEMAS / "trace.schema.json").read_text())
METRICS_SCHEMA = json.loads((SCHEMAS / "metrics.schema.json").read_text())


def validated(run: Run, status: str) -> tuple[dict, dict]:
    """trace.json and metrics.json, valid against their schemas, saying `status`; the trace
    holds every event of events.jsonl, in order."""
    trace, metrics = run.trace(), run.metrics()
    jsonschema.validate(trace, TRACE_SCHEMA)
    jsonschema.validate(metrics, METRICS_SCHEMA)
    assert trace["run"]["status"] == status and metrics["status"] == status
    assert trace["events"] == run.events, "trace.json must hold events.jsonl, every event in order"
    assert metrics["metrics_from"] == ("completed_run" if status == "completed" else "incomplete_run")
    return trace, metrics


def run_printed(command: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """Runs a `spak …` command line as spak printed it."""
    words = shlex.split(command)
    assert words[0] == "spak", command
    return subprocess.run([str(spak_binary()), *words[1:]], cwd=cwd, capture_output=True, text=True, timeout=60, **kwargs)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in ("events.jsonl", "state.json")}


# ---------------------------------------------------------------------------------------------
# 5. A pending tool.run and --live


def test_a_pending_command_is_run_with_resume_live(tmp_path: Path) -> None:
    run = start(tmp_path, "live_pending.spak")
    expect(run, 3)
    assert "is waiting at tool.run in step `say`" in run.result.stdout and "echo hello" in run.result.stdout
    assert run.of_type("effect.answered") == []
    trace, _ = validated(run, "suspended")
    assert trace["run"]["waiting"] == {"index": 0, "effect": "tool.run", "step": "say"}
    done = run.resume("--live")
    assert done.returncode == 0, done.stdout + done.stderr
    (answered,) = run.of_type("effect.answered")
    assert answered["answered_by"] == "live" and answered["result"]["exit_code"] == 0
    assert run.bound("said") == ["hello"]
    validated(run, "completed")


def test_step_without_resume_on_a_pending_command_names_the_live_command(tmp_path: Path) -> None:
    run = start(tmp_path, "live_pending.spak")
    before = snapshot(run.folder)
    result = spak("step", run.folder.name, "--runs-dir", "runs", "--live", cwd=tmp_path)
    assert result.returncode == 4
    assert f"spak step --resume {run.folder.name} --runs-dir runs --live" in result.stderr
    result = run.resume()
    assert result.returncode == 2
    assert f"spak step --resume {run.folder.name} --runs-dir runs --live" in result.stderr
    assert snapshot(run.folder) == before


@pytest.mark.parametrize("how", ["--response", "response.txt"])
def test_live_beside_an_answer_is_refused_and_records_nothing(tmp_path: Path, how: str) -> None:
    run = start(tmp_path, "live_pending.spak")
    before = snapshot(run.folder)
    if how == "--response":
        result = run.resume("--live", "--response", "-", input="by hand")
    else:
        (run.folder / "response.txt").write_text("by hand")
        result = run.resume("--live")
    assert result.returncode == 2 and "would be executed (--live) and also answered" in result.stderr
    assert snapshot(run.folder) == before
    if how == "response.txt":
        assert (run.folder / "response.txt").read_text() == "by hand", "the answer is left where it was"
    assert not (tmp_path / "runs" / run.folder.name / "workspace" / "hello").exists()


def test_a_pending_command_can_be_answered_by_hand(tmp_path: Path) -> None:
    run = start(tmp_path, "live_pending.spak")
    (run.folder / "response.txt").write_text(json.dumps({"exit_code": 0, "stdout": "by hand\n"}))
    done = run.resume()
    assert done.returncode == 0, done.stdout + done.stderr
    (answered,) = run.of_type("effect.answered")
    assert answered["answered_by"] == "response-file" and "execution" not in answered
    assert run.bound("said") == ["by hand"]


@pytest.mark.parametrize("runs_dir", ["my runs", "nested/runs", "ABS"])
def test_printed_commands_work_as_printed(tmp_path: Path, runs_dir: str) -> None:
    runs = str(tmp_path / "abs runs") if runs_dir == "ABS" else runs_dir
    shutil.copy(CONTRACT / "live_pending.spak", tmp_path / "live_pending.spak")
    result = spak("run", "live_pending.spak", "--runs-dir", runs, cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    (folder,) = run_folders(tmp_path / runs)
    lines = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
             for line in result.stdout.splitlines()[1:] if ":" in line}
    run_it = lines["run it"]
    assert shlex.split(run_it)[:5] == ["spak", "step", "--resume", folder.name, "--runs-dir"]
    assert shlex.split(run_it)[5] == runs and shlex.split(run_it)[-1] == "--live"
    # The command without --live (answer by hand) names the runs folder too.
    answer_by_hand = lines["or answer"].split("then run: ", 1)[1]
    assert shlex.split(answer_by_hand) == ["spak", "step", "--resume", folder.name, "--runs-dir", runs]
    # The one the prompt file shows is the same.
    assert f"    {answer_by_hand}\n" in (folder / "pending" / "prompt.md").read_text()
    done = run_printed(run_it, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "completed" in done.stdout


def test_a_default_runs_folder_prints_no_runs_dir(tmp_path: Path) -> None:
    shutil.copy(CONTRACT / "live_pending.spak", tmp_path / "live_pending.spak")
    result = spak("run", "live_pending.spak", cwd=tmp_path, check_code=3)
    (folder,) = run_folders(tmp_path / ".spak" / "runs")
    assert f"run it:    spak step --resume {folder.name} --live\n" in result.stdout
    done = run_printed(f"spak step --resume {folder.name} --live", tmp_path)
    assert done.returncode == 0, done.stderr


def test_a_waiting_query_prints_a_resume_command_that_works(tmp_path: Path) -> None:
    result = spak("run", str(CONTRACT / "three_questions.spak"), "--runs-dir", "some runs", cwd=tmp_path, check_code=3)
    (folder,) = run_folders(tmp_path / "some runs")
    command = re.search(r"then run: (.*)$", result.stdout, re.M).group(1)
    assert shlex.split(command) == ["spak", "step", "--resume", folder.name, "--runs-dir", "some runs"]
    (folder / "response.txt").write_text("one")
    resumed = run_printed(command, tmp_path)
    assert resumed.returncode == 3, resumed.stderr
    # Without --resume, on a waiting run: exit 4 and the command that goes on.
    waiting = spak("step", folder.name, "--runs-dir", "some runs", cwd=tmp_path)
    assert waiting.returncode == 4 and "spak step --resume" in waiting.stderr and "'some runs'" in waiting.stderr


# ---------------------------------------------------------------------------------------------
# 6. trace.json and metrics.json at every stop


def test_exports_at_every_suspension_hold_the_whole_log(tmp_path: Path) -> None:
    run = start(tmp_path, "three_questions.spak")
    expect(run, 3)
    trace, metrics = validated(run, "suspended")
    assert trace["run"]["waiting"] == {"index": 0, "effect": "llm.query", "step": "ask"}
    assert metrics["metrics"] == {"rounds": 1} and "last" in metrics["metric_errors"]
    for number, reply in enumerate(["one", "two"], start=1):
        result = run.resume("--response", "-", input=reply)
        assert result.returncode == 3, result.stderr
        trace, metrics = validated(run, "suspended")
        assert trace["run"]["waiting"]["index"] == number
        assert metrics["metrics"] == {"rounds": number + 1, "last": reply}
        assert len(metrics["llm"]["calls"]) == number
    run.resume("--response", "-", input="three", check_code=0)
    trace, metrics = validated(run, "completed")
    assert metrics["metrics"] == {"rounds": 3, "last": "three"} and "metric_errors" not in metrics
    assert len(metrics["llm"]["calls"]) == 3


@pytest.mark.parametrize("damage", ["delete .export.json", "truncate trace.json", "truncate metrics.json",
                                    "delete both documents", "garbage after trace.json", "garbage .export.json"])
def test_exports_are_rebuilt_when_damaged_between_stops(tmp_path: Path, damage: str) -> None:
    run = start(tmp_path, "three_questions.spak")
    run.resume("--response", "-", input="one", check_code=3)
    if damage == "delete .export.json":
        (run.folder / ".export.json").unlink()
    elif damage == "delete both documents":
        (run.folder / "trace.json").unlink()
        (run.folder / "metrics.json").unlink()
    elif damage == "garbage after trace.json":
        with open(run.folder / "trace.json", "a") as trace:
            trace.write('{"events": [')
    elif damage == "garbage .export.json":
        (run.folder / ".export.json").write_text('{"format": "spak-export", "version": 1, "log_length": 5}')
    else:
        name = damage.split()[1]
        text = (run.folder / name).read_bytes()
        (run.folder / name).write_bytes(text[: len(text) // 2])
    run.resume("--response", "-", input="two", check_code=3)
    validated(run, "suspended")
    run.resume("--response", "-", input="three", check_code=0)
    validated(run, "completed")


def test_a_failed_answer_source_leaves_the_run_suspended_and_exported(tmp_path: Path) -> None:
    run = start(tmp_path, "three_questions.spak", "--responder", "false")
    expect(run, 6)
    trace, _ = validated(run, "suspended")
    assert [e["type"] for e in trace["events"]][-2:] == ["effect.unanswered", "run.suspended"]
    run.resume("--response", "-", input="one", check_code=3)
    validated(run, "suspended")


def test_a_paused_run_exports_its_standing(tmp_path: Path) -> None:
    run = start(tmp_path, "three_questions.spak", "--step", answers=["one", "two", "three"])
    expect(run, 0)
    assert "paused after 1 step" in run.result.stdout
    trace, metrics = validated(run, "paused")
    assert metrics["metrics"] == {"rounds": 1, "last": "one"}
    result = spak("step", run.folder.name, "--runs-dir", "runs", "--answers", str(tmp_path / "answers.jsonl"),
                  cwd=tmp_path, check_code=0)
    assert "paused after 2 steps" in result.stdout
    validated(run, "paused")


def test_a_paused_run_prints_a_next_command_that_works(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text('"one"\n"two"\n"three"\n')
    result = spak("run", str(CONTRACT / "three_questions.spak"), "--step", "--answers", str(answers),
                  "--runs-dir", "my runs", cwd=tmp_path, check_code=0)
    (folder,) = run_folders(tmp_path / "my runs")
    command = result.stdout.split("next: ", 1)[1].strip()
    assert shlex.split(command) == ["spak", "step", folder.name, "--runs-dir", "my runs", "--answers", str(answers)]
    stepped = run_printed(command, tmp_path)
    assert stepped.returncode == 0 and "paused after 2 steps" in stepped.stdout, stepped.stderr


def test_a_failed_run_exports_the_metrics_it_can(tmp_path: Path) -> None:
    run = start(tmp_path, "let_in_loop.spak")
    expect(run, 1)
    trace, metrics = validated(run, "failed")
    assert trace["run"]["reason"] == run.failure()["reason"]
    assert metrics["metrics"] == {"last_doubled": 10, "visits": 5}
    assert set(metrics["metric_errors"]) == {"was_finished"}
    assert "finished" in metrics["metric_errors"]["was_finished"]


def test_a_run_failed_at_the_start_exports_too(tmp_path: Path) -> None:
    run = start(tmp_path, "start_invariants.spak", params={"limit": "-1"})
    expect(run, 1)
    trace, _ = validated(run, "failed")
    assert "before the first step" in trace["run"]["reason"]


# ---------------------------------------------------------------------------------------------
# 8. Locations name the program as given


def test_messages_name_the_program_as_given(tmp_path: Path) -> None:
    (tmp_path / "progs").mkdir()
    shutil.copy(CONTRACT / "locations.spak", tmp_path / "progs" / "where.spak")
    result = spak("run", "progs/where.spak", "--runs-dir", "runs", cwd=tmp_path, check_code=3)
    (folder,) = run_folders(tmp_path / "runs")
    run = Run(result, folder, tmp_path)
    assert "in step `ask` (progs/where.spak:4:5)" in result.stdout and "note:" not in result.stdout
    assert (folder / "pending" / "prompt.md").read_text().startswith("# llm.query in step `ask` (progs/where.spak:4:5)")
    status = spak("status", folder.name, "--runs-dir", "runs", cwd=tmp_path, check_code=0).stdout
    assert "waiting: llm.query in step `ask` (progs/where.spak:4:5)" in status
    shown = spak("trace", "show", folder.name, "--runs-dir", "runs", cwd=tmp_path, check_code=0).stdout
    assert "progs/where.spak:4:5" in shown
    second = run.resume("--response", "-", input="abc", check_code=3)
    assert "(progs/where.spak:8:5)" in second.stdout
    failed = run.resume("--response", "-", input="2", check_code=1)
    reason = run.failure()["reason"]
    assert reason.startswith("progs/where.spak:12:13: int(): `abc` is not a number")
    assert f"run {folder.name} failed: {reason}" in failed.stdout
    assert "note:" not in failed.stdout
    assert "reason:  progs/where.spak:12:13:" in spak("status", folder.name, "--runs-dir", "runs", cwd=tmp_path).stdout
    assert "program.spak" not in failed.stdout + second.stdout + result.stdout + status + shown


def test_an_edited_program_file_gets_a_note_naming_the_run_copy(tmp_path: Path) -> None:
    (tmp_path / "progs").mkdir()
    program = tmp_path / "progs" / "where.spak"
    shutil.copy(CONTRACT / "locations.spak", program)
    result = spak("run", "progs/where.spak", "--runs-dir", "runs", cwd=tmp_path, check_code=3)
    (folder,) = run_folders(tmp_path / "runs")
    program.write_text("// a new first line\n" + program.read_text())
    second = Run(result, folder, tmp_path).resume("--response", "-", input="1", check_code=3)
    assert "(progs/where.spak:8:5)" in second.stdout, "the lines are still those of the run's copy"
    assert f"note: line numbers are those of the run's copy, runs/{folder.name}/program.spak" in second.stdout
    assert "progs/where.spak has changed" in second.stdout


def test_retry_feedback_names_the_program_as_given(tmp_path: Path) -> None:
    (tmp_path / "progs").mkdir()
    shutil.copy(CONTRACT / "runtime_errors.spak", tmp_path / "progs" / "errors.spak")
    result = spak("run", "progs/errors.spak", "--answers", str(CONTRACT / "runtime_errors.jsonl"), "--runs-dir", "runs",
                  cwd=tmp_path, check_code=0)
    run = Run(result, run_folders(tmp_path / "runs")[0], tmp_path)
    feedbacks = [e["feedback"] for e in run.of_type("retry")]
    assert feedbacks[0].startswith("step `compute` failed at progs/errors.spak:13:16: parse_json()")
    assert all("progs/errors.spak:" in feedback for feedback in feedbacks)


def test_a_program_given_by_absolute_path_is_named_relative_to_the_current_folder(tmp_path: Path) -> None:
    # A run folder holds no absolute path: the program is named by its path from where spak ran.
    program = tmp_path / "elsewhere" / "where.spak"
    program.parent.mkdir()
    shutil.copy(CONTRACT / "locations.spak", program)
    result = spak("run", str(program), "--runs-dir", "runs", cwd=tmp_path, check_code=3)
    assert "note:" not in result.stdout, result.stdout
    assert "(elsewhere/where.spak:4:5)" in result.stdout


# ---------------------------------------------------------------------------------------------
# 9. A missing file names the workspace


def test_a_missing_file_names_the_given_workspace(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    run = start(tmp_path, "escape_path.spak", "--workspace", str(tmp_path / "ws"), params={"path": "nope.txt"})
    expect(run, 1)
    assert [e["kind"] for e in run.of_type("retry")] == ["runtime_error"] * 3
    reason = run.failure()["reason"]
    assert "`nope.txt` does not exist in the workspace" in reason
    assert str(tmp_path / "ws") in reason and "--workspace" in reason


def test_a_missing_file_names_the_run_workspace(tmp_path: Path) -> None:
    run = start(tmp_path, "escape_path.spak", params={"path": "nope.txt"})
    expect(run, 1)
    reason = run.failure()["reason"]
    assert f"{run.folder.name}/workspace" in reason and "--workspace" in reason


# ---------------------------------------------------------------------------------------------
# 10. Run ids


def test_run_ids_end_with_four_hex_digits_and_differ(tmp_path: Path) -> None:
    for _ in range(4):
        spak("run", str(CONTRACT / "loop_var_invariant.spak"), "--param", "limit=1", "--runs-dir", "runs",
             cwd=tmp_path, check_code=0)
    ids = [folder.name for folder in run_folders(tmp_path / "runs")]
    assert len(set(ids)) == 4
    for run_id in ids:
        assert re.search(r"-[0-9a-f]{4}$", run_id), run_id
        assert run_id.startswith("loop_var_invariant-")


# ---------------------------------------------------------------------------------------------
# 11. Budgets and caps


def test_status_shows_budgets_spent_and_caps(tmp_path: Path) -> None:
    run = start(tmp_path, "budget_status.spak", answers=["hi"])
    expect(run, 3)
    text = spak("status", run.folder.name, "--runs-dir", "runs", cwd=tmp_path, check_code=0).stdout
    tokens = run.state()["counters"]["tokens"]
    assert tokens > 0
    budgets = text.split("budgets (spent of limit):\n", 1)[1].split("per-call caps", 1)[0]
    lines = [line.strip() for line in budgets.strip().splitlines()]
    assert lines[:3] == ["llm.calls: 1 of 5", f"llm.tokens: {tokens} of 1000", "tool.runs: 0 of 3"]
    assert re.fullmatch(r"wall_time: [0-9.]+ of 600 s", lines[3]) and len(lines) == 4
    caps = text.split("per-call caps", 1)[1].split("variables:", 1)[0].strip().splitlines()[1:]
    assert [line.strip() for line in caps] == ["tool.cpu: 20 s", "tool.memory: 2000000000 bytes",
                                               "tool.output: 4096 bytes", "tool.timeout: 30 s"]
    snapshot = json.loads(spak("status", run.folder.name, "--json", "--runs-dir", "runs", cwd=tmp_path).stdout)
    assert snapshot["budgets"]["llm.calls"] == {"limit": 5, "used": 1}
    assert snapshot["budgets"]["llm.tokens"] == {"limit": 1000, "used": tokens}
    assert snapshot["budgets"]["tool.runs"] == {"limit": 3, "used": 0}
    assert set(snapshot["budgets"]) == {"llm.calls", "llm.tokens", "tool.runs", "wall_time"}
    assert snapshot["caps"] == {"tool.timeout": 30, "tool.output": 4096, "tool.cpu": 20, "tool.memory": 2000000000}
    done = run.resume("--live")
    assert done.returncode == 0, done.stderr
    after = json.loads(spak("status", run.folder.name, "--json", "--runs-dir", "runs", cwd=tmp_path).stdout)
    assert after["budgets"]["tool.runs"] == {"limit": 3, "used": 1}


def test_a_prompt_too_long_for_the_token_budget_is_never_asked(tmp_path: Path) -> None:
    run = start(tmp_path, "token_budget.spak", answers=["ok", "never used"], params={"padding": "x" * 600})
    expect(run, 1)
    requested = run.of_type("effect.requested")
    assert [e["step"] for e in requested] == ["first"], "the second query must not be asked"
    (exceeded,) = run.of_type("budget.exceeded")
    assert exceeded["budget"] == "llm.tokens" and exceeded["limit"] == 100 and exceeded["used"] > 100
    used_before = run.of_type("effect.answered")[0]["usage"]["total_tokens"]
    reason = run.failure()["reason"]
    assert "budget `llm.tokens <= 100` exceeded" in reason and "the next prompt alone is about" in reason
    assert f"{100 - used_before} are left" in reason
    assert run.of_type("step.started")[-1]["step"] == "second"
    assert run.state()["answers_used"] == 1
    validated(run, "failed")


def test_a_prompt_that_fits_the_token_budget_is_asked(tmp_path: Path) -> None:
    run = start(tmp_path, "token_budget.spak", answers=["ok", "fine"], params={"padding": "x" * 40})
    expect(run, 0)
    assert len(run.of_type("effect.requested")) == 2 and run.of_type("budget.exceeded") == []
