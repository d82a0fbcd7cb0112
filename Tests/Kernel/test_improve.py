"""`spak improve` end to end: real `spak` processes, real responders, real run folders."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from conftest import REPO_ROOT, spak

DEMO = REPO_ROOT / "examples" / "improve"
FIXTURES = REPO_ROOT / "Tests" / "Fixtures" / "improve"


def improve(*args: str, cwd: Path, code: int) -> subprocess.CompletedProcess:
    return spak("improve", *args, cwd=cwd, check_code=code)


def report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def test_the_demonstration_finds_a_strictly_better_program(tmp_path):
    out = tmp_path / "out"
    result = improve(str(DEMO / "primes.spak"), "--tasks", str(DEMO / "tasks.json"), "--out", str(out), cwd=tmp_path, code=0)
    assert result.stdout.startswith("improved: c4 beat the original: solved 1 vs 0.250 (noise 0)")
    found = report(out)
    assert found["best"] == "c4" and found["improved"] is True
    by_id = {candidate["id"]: candidate for candidate in found["candidates"]}
    assert by_id["c0"]["measures"]["solved"]["mean"] == 0.25
    assert by_id["c4"]["measures"]["solved"]["mean"] == 1.0
    assert by_id["c3"]["rules"] == ["raise-retry-bound", "show-feedback"] and by_id["c4"]["parent"] == "c3"
    assert [r["winner"] for r in found["rounds"]] == ["c3", "c4", None]
    assert found["budget"] == {"trials": 60, "spent": 40}
    improved = (out / "improved.spak").read_text()
    assert "on_fail retry ask max 4" in improved and "{{#feedback}}" in improved
    # Every trial's run is kept and is a real run folder.
    for trial in found["trials"]:
        assert (out / trial["run"] / "events.jsonl").is_file()
    # The feedback section renders as nothing on a first attempt: the first prompt is unchanged.
    def first_prompt(candidate):
        [run] = [t["run"] for t in found["trials"] if t["candidate"] == candidate and t["task"] == "below-20" and t["repetition"] == 1]
        events = [json.loads(line) for line in (out / run / "events.jsonl").read_text().splitlines()]
        return next(e["request"]["prompt"] for e in events if e["type"] == "effect.requested")
    assert first_prompt("c4") == first_prompt("c0")
    # The diff turns the original into improved.spak.
    copy = tmp_path / "patched"
    copy.mkdir()
    shutil.copy(DEMO / "primes.spak", copy / "primes.spak")
    subprocess.run(["patch", "-s", "-p1", "-i", str(out / "improved.diff")], cwd=copy, check=True)
    assert (copy / "primes.spak").read_text() == improved
    # The improved program solves the hardest task when run on its own.
    run = spak("run", str(out / "improved.spak"), "--param", "limit=40", "--param", "count=12",
               "--responder", f"python3 {DEMO / 'model.py'}", "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, check_code=0)
    assert "metric solved = true" in run.stdout
    text = (out / "report.md").read_text()
    assert "| c4 | c3 | raise-retry-bound | 1 | 0 |" in text and "## Cost of the search" in text


def test_nothing_better_exits_8_and_keeps_the_original(tmp_path):
    program = tmp_path / "primes.spak"
    program.write_text((DEMO / "primes.spak").read_text().replace("max 1", "max 8"))
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps({"repeats": 1, "tasks": [
        {"name": "below-20", "params": {"limit": 20, "count": 8}, "responder": f"python3 {DEMO / 'model.py'}"}]}))
    out = tmp_path / "out"
    result = improve(str(program), "--tasks", str(tasks), "--out", str(out), cwd=tmp_path, code=8)
    assert result.stdout.startswith("not improved: no candidate beat the original")
    assert (out / "improved.spak").read_text() == program.read_text()
    assert (out / "improved.diff").read_text() == ""
    found = report(out)
    # Every run completed with llm.calls far under its budget: the budget is tightened, which ties.
    [tightened] = [c for c in found["candidates"] if c["id"] == "c1"]
    assert tightened["rules"] == ["tighten-budget"]
    assert tightened["verdict"] == ("lost: solved 1 vs 1 for c0 (noise 0): not better by more than the noise, "
                                    "and not cheaper (llm calls 1 vs 1, tokens 27 vs 27)")


def test_a_reflective_proposal_gets_its_diagnostics_once_and_its_runs_replay(tmp_path):
    out = tmp_path / "out"
    improve(str(DEMO / "primes.spak"), "--tasks", str(FIXTURES / "tasks-small.json"), "--out", str(out), "--rounds", "1",
            "--reflect", "--improver-responder", f"python3 {FIXTURES / 'improver_responder.py'}", cwd=tmp_path, code=0)
    found = report(out)
    [reflection] = [c for c in found["candidates"] if c["origin"] == "reflection"]
    assert reflection["status"] == "evaluated"
    assert reflection["changes"] == ["a program proposed by the reflective improver (after one round of diagnostics)"]
    assert len(reflection["improver_runs"]) == 2
    second = out / reflection["improver_runs"][1]
    assert "did not pass the checker" in (second / "trace.json").read_text()
    for run in reflection["improver_runs"]:
        spak("replay", str(out / run), cwd=tmp_path, check_code=0)
    assert "on_fail retry ask max 4" in (out / reflection["program"]).read_text()


def test_a_proposal_that_never_checks_is_rejected_with_its_diagnostics(tmp_path):
    out = tmp_path / "out"
    improve(str(DEMO / "primes.spak"), "--tasks", str(FIXTURES / "tasks-small.json"), "--out", str(out), "--rounds", "1",
            "--reflect", "--improver-responder", f"python3 {FIXTURES / 'improver_responder.py'} --always-broken",
            cwd=tmp_path, code=0)
    [reflection] = [c for c in report(out)["candidates"] if c["origin"] == "reflection"]
    assert reflection["status"] == "rejected" and reflection["verdict"] == "rejected: it does not check"
    assert "error:" in reflection["diagnostics"] and "primes.spak:" in reflection["diagnostics"]
    assert "rejected: does not check" in (out / "report.md").read_text()


def test_a_proposal_that_changes_the_evaluation_is_rejected_unrun(tmp_path):
    out = tmp_path / "out"
    improve(str(DEMO / "primes.spak"), "--tasks", str(FIXTURES / "tasks-small.json"), "--out", str(out), "--rounds", "1",
            "--reflect", "--improver-responder", f"python3 {FIXTURES / 'improver_responder.py'} --change-metric",
            cwd=tmp_path, code=0)
    found = report(out)
    [reflection] = [c for c in found["candidates"] if c["origin"] == "reflection"]
    assert reflection["status"] == "rejected"
    assert reflection["verdict"] == "rejected: it changes the `evaluation` block, which candidates are measured by"
    assert not [t for t in found["trials"] if t["candidate"] == reflection["id"]]


def test_without_an_answer_for_the_improver_its_run_waits_and_the_rules_go_on(tmp_path):
    out = tmp_path / "out"
    result = improve(str(DEMO / "primes.spak"), "--tasks", str(FIXTURES / "tasks-small.json"), "--out", str(out),
                     "--rounds", "1", "--reflect", cwd=tmp_path, code=0)
    assert "no reflective proposal: the improver's query was not answered" in result.stderr
    waiting = list((out / "improver" / "runs").iterdir())
    assert len(waiting) == 1 and (waiting[0] / "pending" / "prompt.md").is_file()


def test_the_budget_bounds_the_search_and_is_reported(tmp_path):
    out = tmp_path / "out"
    improve(str(DEMO / "primes.spak"), "--tasks", str(FIXTURES / "tasks-small.json"), "--out", str(out), "--budget", "4",
            cwd=tmp_path, code=8)
    found = report(out)
    assert found["budget"] == {"trials": 4, "spent": 4}
    statuses = [c["status"] for c in found["candidates"]]
    assert statuses == ["evaluated", "evaluated", "not_evaluated", "not_evaluated"]
    assert found["candidates"][2]["verdict"] == "not evaluated: the budget of 4 trials was spent"


def test_bad_input_is_refused_with_a_message(tmp_path):
    tasks = str(FIXTURES / "tasks-small.json")
    program = str(DEMO / "primes.spak")
    missing = improve(program, "--tasks", str(tmp_path / "none.json"), "--out", str(tmp_path / "a"), cwd=tmp_path, code=2)
    assert "cannot read the task set" in missing.stderr
    small = improve(program, "--tasks", tasks, "--budget", "3", "--out", str(tmp_path / "b"), cwd=tmp_path, code=2)
    assert "a budget of 3 trials is too small: the original and one candidate take 4 (2 tasks × 1 repeats each)" in small.stderr
    assert not (tmp_path / "b").exists(), "a refused search leaves no folder behind"
    (tmp_path / "c").mkdir()
    exists = improve(program, "--tasks", tasks, "--out", str(tmp_path / "c"), cwd=tmp_path, code=2)
    assert "already exists" in exists.stderr
    broken = tmp_path / "broken.spak"
    broken.write_text("task t() {\n  step s { let = 1 }\n}\n")
    errors = improve(str(broken), "--tasks", tasks, "--out", str(tmp_path / "d"), cwd=tmp_path, code=1)
    assert "broken.spak:2:" in errors.stderr
    bad_param = tmp_path / "bad.json"
    bad_param.write_text(json.dumps({"repeats": 1, "tasks": [
        {"name": "a", "params": {"limit": "abc"}, "responder": f"python3 {DEMO / 'model.py'}"}]}))
    unrunnable = improve(program, "--tasks", str(bad_param), "--out", str(tmp_path / "e"), cwd=tmp_path, code=2)
    assert "the original program could not be run on any task:\n  task `a`: the task's parameters: " in unrunnable.stderr
    holds_out = tmp_path / "holds.json"
    holds_out.write_text(json.dumps({"repeats": 1, "tasks": [
        {"name": "a", "workspace": ".", "responder": f"python3 {DEMO / 'model.py'}"}]}))
    inside = improve(program, "--tasks", str(holds_out), "--out", str(tmp_path / "f"), cwd=tmp_path, code=2)
    assert "task `a`: its workspace " in inside.stderr and "which each trial would copy into itself" in inside.stderr
    usage = improve(program, "--tasks", tasks, "--improver-responder", "x", cwd=tmp_path, code=2)
    assert "--improver-responder needs --reflect" in usage.stderr
