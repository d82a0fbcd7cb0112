"""Replay, fork, cassettes and `spak test`, with real `spak` processes on real run folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, REPO_ROOT, normalized_events, run_folders, spak

COUNTER = FIXTURES / "counter.spak"

# A program whose prompt comes from a template file, to check that template edits are named.
TEMPLATED = """task templated(n: int = 3) {
  system_model {
    invariant short: len(reply) < 100
  }
  repeat i in 1...n {
    step ask {
      llm.query(template: "prompts/ask.mustache") -> reply
      let words = split(reply, " ")
    }
  }
  evaluation {
    metric count = len(words)
  }
}
"""
TEMPLATE = "Line one of the prompt.\nQuestion {{i}}: say something.\nLast line.\n"


def counter_run(tmp: Path, answers: list[str], n: int, runs: Path | None = None) -> Path:
    runs = runs or tmp / "runs"
    answers_file = tmp / f"answers-{len(list(tmp.glob('answers-*')))}.jsonl"
    answers_file.write_text("".join(json.dumps(a) + "\n" for a in answers))
    before = set(run_folders(runs))
    spak("run", str(COUNTER), "--param", f"n={n}", "--answers", str(answers_file), "--runs-dir", str(runs),
         cwd=tmp, check_code=0)
    (folder,) = set(run_folders(runs)) - before
    return folder


def templated_run(tmp: Path) -> tuple[Path, Path]:
    project = tmp / "project"
    (project / "prompts").mkdir(parents=True)
    (project / "agent.spak").write_text(TEMPLATED)
    (project / "prompts" / "ask.mustache").write_text(TEMPLATE)
    (project / "answers.jsonl").write_text('"one two"\n"three"\n"four five six"\n')
    spak("run", "agent.spak", "--answers", "answers.jsonl", "--runs-dir", "runs", cwd=project, check_code=0)
    (folder,) = run_folders(project / "runs")
    return project, folder


def replay(folder: Path, *extra: str, code: int) -> str:
    result = spak("replay", str(folder), *extra, cwd=folder.parent, check_code=code)
    return result.stdout


# --- replay ---------------------------------------------------------------------------------

@pytest.mark.parametrize("program", ["examples/hello.spak", "examples/kernels/matmul.spak",
                                     "examples/kernels/bmm.spak", "examples/kernels/fmha.spak"])
def test_every_example_replays_exactly(program: str, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(FIXTURES / "workspace", workspace)
    answers = REPO_ROOT / ("examples/hello.answers.jsonl" if "hello" in program else "Tests/Fixtures/kernel/matmul.answers.jsonl")
    result = spak("run", program, "--answers", str(answers), "--runs-dir", str(tmp_path / "runs"),
                  "--workspace", str(workspace), cwd=REPO_ROOT)
    assert result.returncode in (0, 1, 3), result.stderr
    (folder,) = run_folders(tmp_path / "runs")
    files_before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    out = replay(folder, code=0)
    assert "matches its record" in out
    # A replay performs nothing and writes nothing.
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == files_before


def test_replay_of_a_suspended_run_matches_up_to_the_pending_request(tmp_path: Path) -> None:
    spak("run", str(COUNTER), "--runs-dir", "runs", cwd=tmp_path, check_code=3)
    (folder,) = run_folders(tmp_path / "runs")
    assert "the run is suspended" in replay(folder, code=0)


def test_an_unedited_copy_with_a_comment_added_still_matches(tmp_path: Path) -> None:
    folder = counter_run(tmp_path, ["3", "0", "4", "5"], 3)
    edited = tmp_path / "edited.spak"
    edited.write_text("// a new comment moves every line down\n\n" + COUNTER.read_text())
    assert "matches its record" in replay(folder, "--program", str(edited), code=0)


def edit_counter(tmp: Path, old: str, new: str) -> Path:
    text = COUNTER.read_text()
    assert old in text
    path = tmp / "edited.spak"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize("old,new,step,line,cause", [
    # The prompt literal: the request differs at the first query, in step ask, line 10.
    ("Give a score for item", "Rate item", "ask", 10, "the call at"),
    # The `let`: the bound value differs, named with its line.
    ("let score = int(reply)", "let score = int(reply) + 1", "ask", 11, "`let score` was edited at"),
    # The invariant: its outcome differs for the answer 0 (which the run retried).
    ("invariant positive: score > 0", "invariant positive: score >= 0", "ask", 4, "invariant `positive` was edited"),
    # A step renamed: the record began `save` where the program now begins `store`.
    ("step save {", "step store {", "store", 14, "step `save` is no longer in the program"),
])
def test_an_edited_program_diverges_at_the_right_step_and_line(old, new, step, line, cause, tmp_path: Path) -> None:
    folder = counter_run(tmp_path, ["3", "0", "4", "5"], 3)
    edited = edit_counter(tmp_path, old, new)
    out = replay(folder, "--program", str(edited), code=7)
    assert f"step `{step}`" in out, out
    assert f"{edited}:{line}:" in out, out
    assert cause in out, out


def test_a_prompt_diff_and_the_template_line_that_changed(tmp_path: Path) -> None:
    project, folder = templated_run(tmp_path)
    (project / "prompts" / "ask.mustache").write_text(TEMPLATE.replace("say something", "say nothing"))
    out = replay(folder, "--program", str(project / "agent.spak"), code=7)
    assert "- Question 1: say something." in out and "+ Question 1: say nothing." in out, out
    assert "the prompt template changed at prompts/ask.mustache:2" in out, out
    assert "agent.spak:7:" in out, out


def test_a_program_that_ends_early_or_goes_on_diverges(tmp_path: Path) -> None:
    folder = counter_run(tmp_path, ["3", "4"], 2)
    shorter = edit_counter(tmp_path, "repeat i in 1...n {", "repeat i in 1...1 {")
    out = replay(folder, "--program", str(shorter), code=7)
    assert "the program now:  nothing more" in out or "`i` is bound" in out, out
    longer = edit_counter(tmp_path, "repeat i in 1...n {", "repeat i in 1...(n + 1) {")
    out = replay(folder, "--program", str(longer), code=7)
    assert "the record holds: " in out, out


def test_replay_refuses_a_program_with_errors_and_an_unknown_run(tmp_path: Path) -> None:
    folder = counter_run(tmp_path, ["3"], 1)
    broken = tmp_path / "broken.spak"
    broken.write_text("task broken( {")
    result = spak("replay", str(folder), "--program", str(broken), cwd=tmp_path, check_code=1)
    assert "broken.spak:1:" in result.stderr
    spak("replay", "no-such-run", "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, check_code=4)


# --- fork -----------------------------------------------------------------------------------

LONG = 40


def combined_events(child: Path) -> list[dict]:
    """The child's full history: its parent's events before the fork, then its own."""
    info = json.loads((child / "run.json").read_text())
    own = [json.loads(line) for line in (child / "events.jsonl").read_text().splitlines()]
    parent = child.parent / info["fork"]["parent"]
    before = [json.loads(line) for line in (parent / "events.jsonl").read_text().splitlines()
              if json.loads(line)["seq"] < info["fork"]["seq"]]
    return before + own


def essence(events: list[dict]) -> list[dict]:
    skip_types = {"run.suspended", "run.resumed", "recovery", "effect.attempt", "effect.unanswered", "run.forked"}
    skip_fields = {"seq", "time", "duration_ms", "reexecuted", "program_hash", "answered_by", "answers_used",
                   "execution", "usage", "location"}
    return [{k: v for k, v in e.items() if k not in skip_fields} for e in events if e["type"] not in skip_types]


@pytest.mark.parametrize("occurrence", [1, LONG // 2, LONG])
def test_fork_at_first_middle_and_last_step_of_a_long_loop(occurrence: int, tmp_path: Path) -> None:
    answers = [str(i) for i in range(1, LONG + 1)]
    parent = counter_run(tmp_path, answers, LONG)
    # The same answers from the fork point on: the fork's history equals the parent's.
    rest = tmp_path / "rest.jsonl"
    rest.write_text("".join(f'"{a}"\n' for a in answers[occurrence - 1:]))
    result = spak("fork", str(parent), "--at", f"ask#{occurrence}", "--answers", str(rest), "--runs-dir", str(tmp_path / "runs"),
                  cwd=tmp_path, check_code=0)
    assert f"at ask#{occurrence}" in result.stdout
    (child,) = set(run_folders(tmp_path / "runs")) - {parent}
    assert essence(combined_events(child)) == essence(json.loads((parent / "trace.json").read_text())["events"])
    info = json.loads((child / "run.json").read_text())
    assert info["fork"]["parent"] == parent.name and info["fork"]["at"] == f"ask#{occurrence}"
    first = json.loads((child / "events.jsonl").read_text().splitlines()[0])
    assert first["type"] == "run.forked" and first["seq"] == info["fork"]["seq"]
    assert json.loads((child / "metrics.json").read_text())["metrics"] == {"items": LONG, "last": LONG}
    assert "matches its record" in replay(child, code=0)
    schemas = REPO_ROOT / "docs" / "schema"
    jsonschema.validate(json.loads((child / "trace.json").read_text()), json.loads((schemas / "trace.schema.json").read_text()))
    jsonschema.validate(json.loads((child / "metrics.json").read_text()), json.loads((schemas / "metrics.schema.json").read_text()))


def test_fork_with_another_answer_then_lineage_and_errors(tmp_path: Path) -> None:
    parent = counter_run(tmp_path, ["3", "4", "5"], 3)
    runs = tmp_path / "runs"
    response = tmp_path / "response.txt"
    response.write_text("40\n")
    result = spak("fork", parent.name, "--at", "ask#2", "--response", str(response), "--runs-dir", str(runs), cwd=tmp_path,
                  check_code=3)  # item 3 then waits for a person
    assert "waiting for an answer" in result.stdout
    (child,) = set(run_folders(runs)) - {parent}
    bound = [json.loads(l) for l in (child / "events.jsonl").read_text().splitlines()]
    assert {"name": "score", "value": 40} in [{k: e.get(k) for k in ("name", "value")} for e in bound if e["type"] == "var.bound"]
    assert json.loads((child / "state.json").read_text())["variables"]["i"] == 3
    # A fork of the fork, then the tree.
    spak("fork", child.name, "--at", "save#2", "--runs-dir", str(runs), cwd=tmp_path, check_code=3)
    tree = spak("runs", "--tree", "--runs-dir", str(runs), cwd=tmp_path, check_code=0).stdout.splitlines()
    assert tree[1].startswith(parent.name)
    assert tree[2].startswith(f"└─ {child.name} (at ask#2)")
    assert "   └─ " in tree[3] and "(at save#2)" in tree[3]
    # What cannot be forked is refused with a usage error.
    for at, message in [("ask", "began 3 times"), ("ask#4", "began only 3 times"), ("nope#1", "no step `nope`"),
                        ("ask#0", "from 1"), ("ask#x", "from 1")]:
        result = spak("fork", parent.name, "--at", at, "--runs-dir", str(runs), cwd=tmp_path, check_code=2)
        assert message in result.stderr, (at, result.stderr)
    result = spak("fork", child.name, "--at", "ask#1", "--runs-dir", str(runs), cwd=tmp_path, check_code=2)
    assert f"fork its parent {parent.name}" in result.stderr


def test_a_forked_run_without_snapshots_is_forked_from_the_start(tmp_path: Path) -> None:
    """Runs recorded before snapshots existed are re-executed from their start."""
    parent = counter_run(tmp_path, ["3", "4", "5"], 3)
    (parent / "snapshots.idx").unlink()
    (parent / "snapshots.jsonl").unlink()
    spak("fork", parent.name, "--at", "save#2", "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, check_code=3)
    (child,) = set(run_folders(tmp_path / "runs")) - {parent}
    state = json.loads((child / "state.json").read_text())
    assert state["variables"]["i"] == 3 and state["variables"]["score"] == 4  # save#2 done, item 3 asked


# --- cassettes and spak test ----------------------------------------------------------------

def test_cassette_records_then_answers_hermetically(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text('"3"\n"0"\n"4"\n')
    cassette = tmp_path / "counter.cassette.jsonl"
    spak("run", str(COUNTER), "--param", "n=2", "--answers", str(answers), "--cassette", str(cassette),
         "--runs-dir", "a", cwd=tmp_path, check_code=0)
    lines = [json.loads(l) for l in cassette.read_text().splitlines()]
    assert lines[0] == {"format": "spak-cassette", "version": 1}
    assert [l["result"] for l in lines[1:-1]] == ["3", "0", "4"] and lines[-1]["format"] == "spak-cassette-end"
    # Played back with no other source: the same run.
    spak("run", str(COUNTER), "--param", "n=2", "--cassette", str(cassette), "--runs-dir", "b", cwd=tmp_path, check_code=0)
    (a,), (b,) = run_folders(tmp_path / "a"), run_folders(tmp_path / "b")
    assert essence(normalized_events(a)) == essence(normalized_events(b))
    answered = [e["answered_by"] for e in normalized_events(b) if e["type"] == "effect.answered" and e["effect"] == "llm.query"]
    assert answered == ["cassette: counter.cassette.jsonl#2", "cassette: counter.cassette.jsonl#3", "cassette: counter.cassette.jsonl#4"]
    # A request it lacks stops the run (exit 7) and shows the closest recorded one.
    result = spak("run", str(COUNTER), "--param", "n=3", "--cassette", str(cassette), "--runs-dir", "c", cwd=tmp_path, check_code=7)
    assert "holds no answer to llm.query in step `ask`" in result.stderr and "Give a score for item 3" in result.stderr
    (c,) = run_folders(tmp_path / "c")
    assert json.loads((c / "state.json").read_text())["status"]["name"] == "suspended"
    # --cassette-mode new answers it elsewhere and adds it.
    more = tmp_path / "more.jsonl"
    more.write_text('"9"\n')
    spak("run", str(COUNTER), "--param", "n=3", "--cassette", str(cassette), "--cassette-mode", "new", "--answers", str(more),
         "--runs-dir", "d", cwd=tmp_path, check_code=0)
    assert json.loads(cassette.read_text().splitlines()[-2])["result"] == "9"


def test_a_cassette_answers_tool_run_without_running_it(tmp_path: Path) -> None:
    program = tmp_path / "touch.spak"
    program.write_text('task touch() {\n  system_model {\n    allow tool.run "sh"\n  }\n'
                       '  step go {\n    tool.run("sh -c \'echo ran >> marker.txt; echo hi\'") -> out\n  }\n'
                       '  evaluation {\n    metric said = strip(out.stdout)\n  }\n}\n')
    workspace = tmp_path / "ws"
    workspace.mkdir()
    common = ["--workspace", str(workspace), "--cassette", str(tmp_path / "touch.cassette.jsonl"), "--runs-dir", "runs"]
    spak("run", str(program), "--live", *common, cwd=tmp_path, check_code=0)
    spak("run", str(program), "--live", *common, cwd=tmp_path, check_code=0)
    assert (workspace / "marker.txt").read_text() == "ran\n"
    for folder in run_folders(tmp_path / "runs"):
        assert json.loads((folder / "metrics.json").read_text())["metrics"]["said"] == "hi"


def test_spak_test_passes_fails_and_records(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    shutil.copy(COUNTER, tests / "counter.spak")
    (tests / "counter.test.json").write_text(json.dumps(
        {"params": {"n": 2}, "expect": {"metrics": {"last": 4, "items": {"min": 2, "max": 2}},
                                        "counters": {"llm_calls": 3}, "invariants": {"positive": True}}}))
    (tests / "hello.test.json").write_text(json.dumps(
        {"program": str(REPO_ROOT / "examples/hello.spak"), "expect": {"variables": {"greeting": "wrong"}}}))
    result = spak("test", "tests", cwd=tmp_path, check_code=1)
    assert "FAIL counter" in result.stdout and "no cassette" in result.stdout
    answers = tmp_path / "answers.jsonl"
    answers.write_text('"3"\n"0"\n"4"\n')
    spak("test", "tests", "--record", "--answers", str(answers), cwd=tmp_path, check_code=1)
    shutil.copy(REPO_ROOT / "examples/hello.answers.jsonl", answers)
    (tests / "hello.cassette.jsonl").unlink()
    spak("test", "tests", "--record", "--answers", str(answers), cwd=tmp_path, check_code=1)
    result = spak("test", "tests", cwd=tmp_path, check_code=1)
    assert "PASS counter" in result.stdout
    assert 'FAIL hello    variable `greeting` is "Hello, world! Lovely to meet you."; expected "wrong"' in result.stdout
    assert "2 tests: 1 passed, 1 failed" in result.stdout
    spec = json.loads((tests / "hello.test.json").read_text())
    spec["expect"]["variables"]["greeting"] = "Hello, world! Lovely to meet you."
    (tests / "hello.test.json").write_text(json.dumps(spec))
    assert "2 tests: 2 passed" in spak("test", "tests", cwd=tmp_path, check_code=0).stdout
    # A test that names an unknown expectation is refused as unusable.
    (tests / "bad.test.json").write_text(json.dumps({"program": "counter.spak", "expect": {"metric": {}}}))
    assert "unknown expectation `metric`" in spak("test", "tests", cwd=tmp_path, check_code=2).stderr


# --- what review found ----------------------------------------------------------------------

WALL_TIME = """task slow() {
  system_model {
    allow tool.run "sleep"
    budget wall_time <= 1s
  }
  step a { tool.run("sleep 0.6") -> x }
  step b { tool.run("sleep 0.6") -> y }
  step c { let z = 1 }
}
"""


def test_time_is_an_input_the_record_holds(tmp_path: Path) -> None:
    """A wall_time failure replays exactly, and a fork keeps the time already spent."""
    (tmp_path / "slow.spak").write_text(WALL_TIME)
    (tmp_path / "ws").mkdir()
    result = spak("run", "slow.spak", "--live", "--workspace", "ws", "--runs-dir", "runs", cwd=tmp_path, check_code=1)
    assert "budget `wall_time <= 1s` exceeded" in result.stdout
    (folder,) = run_folders(tmp_path / "runs")
    assert "matches its record" in replay(folder, code=0)
    result = spak("fork", folder.name, "--at", "b", "--live", "--runs-dir", "runs", cwd=tmp_path, check_code=1)
    assert "budget `wall_time <= 1s` exceeded" in result.stdout


REPEATED = """task repeated() {
  repeat i in 1...3 {
    step ask { llm.query("give a number") -> r }
  }
  evaluation { metric last = r }
}
"""


def test_a_cassette_keeps_its_place_across_processes(tmp_path: Path) -> None:
    (tmp_path / "d.spak").write_text(REPEATED)
    (tmp_path / "all.jsonl").write_text('"1"\n"2"\n"3"\n')
    spak("run", "d.spak", "--answers", "all.jsonl", "--cassette", "tape.jsonl", "--runs-dir", "rec", cwd=tmp_path, check_code=0)
    # Step by step, one process per step: the same request gets the next recorded answer each time.
    spak("run", "d.spak", "--step", "--cassette", "tape.jsonl", "--runs-dir", "steps", cwd=tmp_path, check_code=0)
    (folder,) = run_folders(tmp_path / "steps")
    for _ in range(3):
        spak("step", folder.name, "--cassette", "tape.jsonl", "--runs-dir", "steps", cwd=tmp_path, check_code=0)
    assert json.loads((folder / "metrics.json").read_text())["metrics"]["last"] == "3"
    # A run suspended without the cassette is resumed from it.
    spak("run", "d.spak", "--runs-dir", "later", cwd=tmp_path, check_code=3)
    (folder,) = run_folders(tmp_path / "later")
    spak("step", "--resume", folder.name, "--cassette", "tape.jsonl", "--runs-dir", "later", cwd=tmp_path, check_code=0)
    # Asked more often than recorded: the message says so.
    text = (tmp_path / "d.spak").read_text().replace("1...3", "1...4")
    (tmp_path / "d4.spak").write_text(text)
    result = spak("run", "d4.spak", "--cassette", "tape.jsonl", "--runs-dir", "more", cwd=tmp_path, check_code=7)
    assert "3 answers to this very request, all used" in result.stderr
    # An unusable cassette is refused before a run folder is made.
    (tmp_path / "bad.jsonl").write_text("not json\n")
    spak("run", "d.spak", "--cassette", "bad.jsonl", "--runs-dir", "bad", cwd=tmp_path, check_code=2)
    assert run_folders(tmp_path / "bad") == []


def test_spak_test_never_writes_a_cassette(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "d.spak").write_text(REPEATED)
    (tmp_path / "all.jsonl").write_text('"1"\n"2"\n"3"\n')
    spak("test", "tests", "--record", "--answers", "all.jsonl", cwd=tmp_path, check_code=0)
    tape = tests / "d.cassette.jsonl"
    unfinished = "".join(tape.read_text().splitlines(keepends=True)[:-1])  # without its end line
    tape.write_text(unfinished)
    spak("test", "tests", cwd=tmp_path, check_code=0)
    assert tape.read_text() == unfinished


def test_a_parameter_the_edited_program_adds_takes_its_default(tmp_path: Path) -> None:
    folder = counter_run(tmp_path, ["3", "4"], 2)
    edited = edit_counter(tmp_path, "task counter(n: int = 5)", "task counter(n: int = 5, m: int = 1)")
    edited.write_text(edited.read_text().replace("let score = int(reply)", "let score = int(reply) * m"))
    assert "matches its record" in replay(folder, "--program", str(edited), code=0)


def test_damaged_snapshots_never_stop_a_run(tmp_path: Path) -> None:
    import struct
    spak("run", str(COUNTER), "--param", "n=3", "--runs-dir", "runs", cwd=tmp_path, check_code=3)
    (folder,) = run_folders(tmp_path / "runs")
    index = bytearray((folder / "snapshots.idx").read_bytes())
    index[16:32] = struct.pack("<QQ", 2**63 - 1, 2**63 - 1)  # the first record points nowhere
    (folder / "snapshots.idx").write_bytes(bytes(index))
    (tmp_path / "answers.jsonl").write_text('"3"\n"4"\n"5"\n')
    spak("step", "--resume", folder.name, "--answers", "answers.jsonl", "--runs-dir", "runs", cwd=tmp_path, check_code=0)
    # The bad record was dropped when the run was opened; the snapshots taken since are good.
    spak("fork", folder.name, "--at", "ask#3", "--runs-dir", "runs", cwd=tmp_path, check_code=3)
    (folder / "snapshots.jsonl").unlink()
    spak("fork", folder.name, "--at", "ask#3", "--runs-dir", "runs", cwd=tmp_path, check_code=4)


def test_a_cut_log_of_an_ended_run_is_damage_not_divergence(tmp_path: Path) -> None:
    folder = counter_run(tmp_path, ["3", "4"], 2)
    lines = (folder / "events.jsonl").read_text().splitlines(keepends=True)
    (folder / "events.jsonl").write_text("".join(lines[:-2]))
    result = spak("replay", str(folder), cwd=tmp_path, check_code=4)
    assert "shorter than the run's last snapshot says" in result.stderr


def test_the_shipped_agent_tests_pass(tmp_path: Path) -> None:
    result = spak("test", "examples/tests", "--runs-dir", str(tmp_path / "runs"), cwd=REPO_ROOT, check_code=0)
    assert "1 test: 1 passed, 0 failed" in result.stdout
