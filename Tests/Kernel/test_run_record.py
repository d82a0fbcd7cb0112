"""Bad input to a run never crashes spak, gets a clear message and a distinct exit code, and
loses nothing already recorded."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, REPO_ROOT, normalized_events, run_folders, spak, spak_binary

PROGRAM = FIXTURES / "counter.spak"


def suspended_run(tmp: Path, items: int = 2) -> Path:
    runs = tmp / "runs"
    result = spak("run", str(PROGRAM), "--param", f"n={items}", "--runs-dir", str(runs), cwd=tmp, check_code=3)
    assert "is waiting for an answer to llm.query" in result.stdout
    (folder,) = run_folders(runs)
    return folder


def resume(folder: Path, *extra: str, **kwargs) -> subprocess.CompletedProcess:
    return spak("step", "--resume", str(folder), "--runs-dir", str(folder.parent), *extra, cwd=folder.parent, **kwargs)


def record(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in ("state.json", "events.jsonl")}


def test_suspend_answer_resume_to_the_end(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path)
    prompt = (folder / "pending" / "prompt.md").read_text()
    assert "Give a score for item 1." in prompt and "spak step --resume" in prompt
    request = json.loads((folder / "pending" / "request.json").read_text())
    assert request["effect"] == "llm.query" and request["index"] == 0
    (folder / "response.txt").write_text("5\n")
    assert "is waiting" in resume(folder, check_code=3).stdout
    assert not (folder / "response.txt").exists(), "a consumed answer must not be reused"
    result = resume(folder, "--response", "-", input="6", check_code=0)
    assert "completed" in result.stdout and "trace:" in result.stdout
    answered = [e for e in json.loads((folder / "trace.json").read_text())["events"] if e["type"] == "effect.answered"]
    assert [e["answered_by"] for e in answered if e["effect"] == "llm.query"] == ["response-file", "stdin"]


@pytest.mark.parametrize("content", ["", "   \n"])
def test_missing_or_empty_answer_changes_nothing(tmp_path: Path, content: str) -> None:
    folder = suspended_run(tmp_path)
    before = record(folder)
    result = resume(folder)
    assert result.returncode == 2 and "no answer" in result.stderr
    (folder / "response.txt").write_text(content)
    result = resume(folder)
    assert result.returncode == 2 and "is empty; nothing was recorded" in result.stderr
    assert record(folder) == before


def test_corrupted_state_is_refused_and_left_alone(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path)
    (folder / "state.json").write_text('{"format": "spak-state", "version": 1, "pc": ')
    events = (folder / "events.jsonl").read_bytes()
    (folder / "response.txt").write_text("5")
    result = resume(folder)
    assert result.returncode == 4 and "state.json is corrupted" in result.stderr
    assert (folder / "events.jsonl").read_bytes() == events
    status = spak("status", str(folder), "--runs-dir", str(folder.parent), cwd=tmp_path)
    assert status.returncode == 4 and "corrupted" in status.stderr


def test_corruption_inside_the_log_is_refused(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path)
    state = json.loads((folder / "state.json").read_text())
    # Events after the snapshot with a damaged line that is not the last: corruption, not a crash.
    with open(folder / "events.jsonl", "a") as log:
        log.write("{not an event}\n" + json.dumps({"seq": 99, "time": 0, "type": "run.resumed", "index": 0}) + "\n")
    result = resume(folder, "--response", "-", input="5")
    assert result.returncode == 4 and "corrupted at byte" in result.stderr
    assert json.loads((folder / "state.json").read_text()) == state


def test_a_torn_last_line_is_reported_and_repaired(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path, items=1)
    with open(folder / "events.jsonl", "a") as log:
        log.write('{"seq": 4, "type": "effect.ans')
    result = resume(folder, "--response", "-", input="5", check_code=0)
    assert "torn last event" in result.stderr
    trace = json.loads((folder / "trace.json").read_text())
    recovery = [e for e in trace["events"] if e["type"] == "recovery"]
    assert recovery and recovery[0]["torn_bytes"] == len('{"seq": 4, "type": "effect.ans')


def test_an_edited_program_is_refused_with_a_pointer_to_fork(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path)
    program = folder / "program.spak"
    program.write_text(program.read_text().replace("max 2", "max 3"))
    result = resume(folder, "--response", "-", input="5")
    assert result.returncode == 4 and "was edited after the run started" in result.stderr and "new run" in result.stderr


def test_an_unknown_run_is_reported(tmp_path: Path) -> None:
    result = spak("step", "--resume", "no-such-run", "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path)
    assert result.returncode == 4 and "no run `no-such-run`" in result.stderr
    assert spak("status", "no-such-run", cwd=tmp_path).returncode == 4


def test_a_second_process_on_the_same_run_is_refused(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path)
    slow = "python3 -c \"import sys, time; sys.stdin.read(); time.sleep(2); print(5)\""
    first = subprocess.Popen([str(spak_binary()), "step", "--resume", str(folder), "--responder", slow],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    second = resume(folder, "--response", "-", input="5")
    assert second.returncode == 5 and "in use by another spak process" in second.stderr
    first.communicate(timeout=60)
    assert first.returncode == 0


def test_a_full_disk_fails_cleanly_and_the_run_goes_on_later(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path, items=1)
    limit = (folder / "events.jsonl").stat().st_size + 40

    def small_files() -> None:
        # Writes past `limit` bytes fail with EFBIG, as they would with ENOSPC on a full disk.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run([str(spak_binary()), "step", "--resume", str(folder), "--response", "-"],
                            input="5", cwd=tmp_path, capture_output=True, text=True, preexec_fn=small_files)
    assert result.returncode == 2 and "cannot write" in result.stderr, result.stderr
    assert json.loads((folder / "state.json").read_text())["status"]["name"] == "suspended"
    done = resume(folder, "--response", "-", input="5", check_code=0)
    assert "completed" in done.stdout


def test_a_run_folder_copied_elsewhere_resumes_there(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path)
    elsewhere = tmp_path / "other-machine" / "runs" / folder.name
    shutil.copytree(folder, elsewhere)
    resume(elsewhere, "--response", "-", input="5", check_code=3)
    resume(elsewhere, "--response", "-", input="6", check_code=0)
    assert (elsewhere / "workspace" / "out" / "item-2.txt").read_text() == "6"
    assert str(tmp_path) not in (elsewhere / "state.json").read_text(), "no absolute paths in the record"


def test_trace_and_metrics_match_their_schemas(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text('"3"\n"0"\n"4"\n')
    runs = tmp_path / "runs"
    spak("run", str(PROGRAM), "--param", "n=2", "--answers", str(answers), "--runs-dir", str(runs), cwd=tmp_path, check_code=0)
    spak("run", str(PROGRAM), "--param", "n=2", "--answers", str(answers), "--runs-dir", str(runs), cwd=tmp_path)
    schemas = REPO_ROOT / "docs" / "schema"
    for folder in run_folders(runs):
        jsonschema.validate(json.loads((folder / "trace.json").read_text()), json.loads((schemas / "trace.schema.json").read_text()))
        jsonschema.validate(json.loads((folder / "metrics.json").read_text()), json.loads((schemas / "metrics.schema.json").read_text()))


def test_status_and_runs_describe_the_run(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path)
    status = spak("status", folder.name, "--runs-dir", str(folder.parent), cwd=tmp_path, check_code=0).stdout
    assert "status:  suspended" in status and "waiting: llm.query in step `ask`" in status and "llm.calls: 0 of 40" in status
    snapshot = json.loads(spak("status", folder.name, "--json", "--runs-dir", str(folder.parent), cwd=tmp_path).stdout)
    assert snapshot["status"]["name"] == "suspended" and snapshot["budgets"]["llm.calls"]["limit"] == 40
    listing = spak("runs", "--runs-dir", str(folder.parent), cwd=tmp_path, check_code=0).stdout
    assert folder.name in listing and "suspended" in listing


def test_bad_parameters_are_usage_errors(tmp_path: Path) -> None:
    result = spak("run", str(PROGRAM), "--param", "m=3", "--runs-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "did you mean `n`" in result.stderr
    result = spak("run", str(PROGRAM), "--param", "n=three", "--runs-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "not a valid int" in result.stderr
    assert not run_folders(tmp_path)


def test_one_step_at_a_time(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text('"4"\n"5"\n')
    runs = tmp_path / "runs"
    first = spak("run", str(PROGRAM), "--param", "n=2", "--step", "--answers", str(answers), "--runs-dir", str(runs),
                 cwd=tmp_path, check_code=0)
    assert "paused after 1 step" in first.stdout
    (folder,) = run_folders(runs)
    for expected in (2, 3, 4):
        result = spak("step", folder.name, "--answers", str(answers), "--runs-dir", str(runs), cwd=tmp_path, check_code=0)
        assert f"paused after {expected} steps" in result.stdout
    done = spak("step", folder.name, "--answers", str(answers), "--runs-dir", str(runs), cwd=tmp_path, check_code=0)
    assert "completed" in done.stdout
    again = spak("step", folder.name, "--runs-dir", str(runs), cwd=tmp_path)
    assert again.returncode == 4 and "already completed" in again.stderr


def test_a_hanging_responder_is_stopped_and_the_run_stays_suspended(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    hang = "python3 -c \"import time; time.sleep(60)\""
    start = time.perf_counter()
    result = spak("run", str(PROGRAM), "--param", "n=1", "--responder", hang, "--responder-timeout", "1",
                  "--runs-dir", str(runs), cwd=tmp_path)
    assert time.perf_counter() - start < 20
    assert result.returncode == 6 and "gave no answer within 1 s" in result.stderr
    (folder,) = run_folders(runs)
    assert json.loads((folder / "state.json").read_text())["status"]["name"] == "suspended"
    unanswered = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()
                  if '"effect.unanswered"' in line]
    assert len(unanswered) == 1 and "gave no answer within 1 s" in unanswered[0]["reason"]
    assert resume(folder, "--response", "-", input="5", check_code=0).stdout.startswith(f"run {folder.name} completed")


def test_an_answer_taken_before_a_crash_is_used_once_and_only_for_its_request(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path)
    # A resume that crashed after taking response.txt, before recording it, leaves the answer here.
    (folder / "pending" / "answer-0.txt").write_text("5")
    resume(folder, check_code=3)
    assert not (folder / "pending" / "answer-0.txt").exists()
    assert resume(folder).returncode == 2, "the next request must not reuse the earlier answer"


def test_spak_run_holds_the_lock_while_it_runs(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    slow = "python3 -c \"import sys, time; sys.stdin.read(); time.sleep(2); print(5)\""
    first = subprocess.Popen([str(spak_binary()), "run", str(PROGRAM), "--param", "n=1", "--responder", slow,
                              "--runs-dir", str(runs)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    (folder,) = run_folders(runs)
    second = resume(folder, "--responder", "echo 7")
    assert second.returncode == 5, second.stderr
    first.communicate(timeout=60)
    assert first.returncode == 0


def test_an_answer_recorded_before_a_crash_is_reused_not_asked_again(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path)
    snapshot = (folder / "state.json").read_bytes()
    resume(folder, "--response", "-", input="9", check_code=3)
    # The crash came after the log was synced and before state.json was replaced.
    (folder / "state.json").write_bytes(snapshot)
    result = resume(folder, check_code=3)
    assert "1 recorded answer reused" in result.stderr
    result = resume(folder, "--response", "-", input="8", check_code=0)
    events = json.loads((folder / "trace.json").read_text())["events"]
    replies = [e["value"] for e in events if e["type"] == "var.bound" and e["name"] == "reply"]
    assert replies == ["9", "8"]


@pytest.mark.parametrize("responder, message", [
    ("true", "printed nothing"),
    ("python3 -c \"import sys; sys.stderr.write('x' * 300000); print(5)\"", None),
    ("echo 5", None),
])
def test_responders_that_misbehave(tmp_path: Path, responder: str, message: str | None) -> None:
    runs = tmp_path / "runs"
    big = tmp_path / "big.spak"
    big.write_text('task t(x: string = "' + "y" * 200 + '") {\n  step s { llm.query("' + "{{x}}" * 500 + '") -> r }\n}\n')
    result = spak("run", str(big), "--responder", responder, "--responder-timeout", "20", "--runs-dir", str(runs), cwd=tmp_path)
    if message:
        assert result.returncode == 6 and message in result.stderr
        (folder,) = run_folders(runs)
        assert json.loads((folder / "state.json").read_text())["status"]["name"] == "suspended"
    else:
        assert result.returncode == 0, result.stderr


def test_lists_and_maps_render_as_json_and_the_same_every_time(tmp_path: Path) -> None:
    program = tmp_path / "render.spak"
    program.write_text('task t() {\n  let m = {k: "v", n: 1, z: [1, 2.5]}\n'
                       '  step s { llm.query("m={{m}} {{#m}}k={{k}}{{/m}}") -> r }\n}\n')
    prompts = set()
    for attempt in range(4):
        runs = tmp_path / f"runs-{attempt}"
        spak("run", str(program), "--runs-dir", str(runs), cwd=tmp_path, check_code=3)
        (folder,) = run_folders(runs)
        prompts.add(json.loads((folder / "pending" / "request.json").read_text())["request"]["prompt"])
    assert prompts == {'m={"k":"v","n":1,"z":[1,2.5]} k=v'}


def test_a_state_pointing_outside_the_program_is_refused(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path)
    state = json.loads((folder / "state.json").read_text())
    state["pc"] = 9999
    (folder / "state.json").write_text(json.dumps(state))
    result = resume(folder, "--response", "-", input="5")
    assert result.returncode == 4 and "points past the end" in result.stderr


def test_damage_before_the_snapshot_is_caught_at_export(tmp_path: Path) -> None:
    folder = suspended_run(tmp_path, items=1)
    lines = (folder / "events.jsonl").read_text().splitlines(keepends=True)
    lines[1] = "x" * (len(lines[1]) - 1) + "\n"
    (folder / "events.jsonl").write_text("".join(lines))
    result = resume(folder, "--response", "-", input="5")
    assert result.returncode == 4 and "is damaged" in result.stderr
    assert not (folder / "trace.json").exists()
