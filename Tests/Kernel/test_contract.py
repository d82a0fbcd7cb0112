"""The system model holds exactly as written (issue "[contract]"): when invariants are checked
and on which values, what a retry makes stale, which failures a retry takes and which it does
not. Real `spak` processes run the programs in Tests/Fixtures/contract/; the tests assert the
recorded events, not only exit codes.

The helpers here (`Run`, `start`, `checks`…) are shared by the other test_contract_*.py files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO_ROOT, run_folders, spak, spak_binary

CONTRACT = REPO_ROOT / "Tests" / "Fixtures" / "contract"
SCHEMAS = REPO_ROOT / "docs" / "schema"


@dataclass
class Run:
    result: subprocess.CompletedProcess
    folder: Path | None
    tmp: Path

    @property
    def events(self) -> list[dict]:
        if self.folder is None:
            return []
        return [json.loads(line) for line in (self.folder / "events.jsonl").read_text().splitlines()]

    def of_type(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["type"] == kind]

    def bound(self, name: str) -> list:
        """Every value the run bound to `name`, in order."""
        return [e["value"] for e in self.of_type("var.bound") if e["name"] == name]

    def checks(self) -> list[tuple]:
        """Each `invariant.checked` as (name, where, ok, values), where is ("step", S),
        ("binding", NAME) or ("start",)."""
        out = []
        for e in self.of_type("invariant.checked"):
            assert {"name", "ok", "values"} <= e.keys(), e
            places = [key for key in ("step", "binding", "when") if key in e]
            assert len(places) == 1, f"an invariant check says exactly one where: {e}"
            where = ("start",) if places[0] == "when" else (places[0], e[places[0]])
            if places[0] == "when":
                assert e["when"] == "start", e
            out.append((e["name"], where, e["ok"], e["values"]))
        return out

    def retries(self) -> list[tuple]:
        """Each `retry` as (step, target, attempt, kind)."""
        return [(e["step"], e["target"], e["attempt"], e["kind"]) for e in self.of_type("retry")]

    def outcomes(self) -> list[tuple]:
        return [(e["step"], e["outcome"]) for e in self.of_type("step.finished")]

    def failure(self) -> dict:
        (failed,) = self.of_type("run.failed")
        return failed

    def state(self) -> dict:
        return json.loads((self.folder / "state.json").read_text())

    def trace(self) -> dict:
        return json.loads((self.folder / "trace.json").read_text())

    def metrics(self) -> dict:
        return json.loads((self.folder / "metrics.json").read_text())

    def resume(self, *extra: str, **kwargs) -> subprocess.CompletedProcess:
        """`spak step --resume RUN`, from the folder the run was started in."""
        return spak("step", "--resume", self.folder.name, "--runs-dir", "runs", *extra, cwd=self.tmp, **kwargs)


def answers_file(tmp: Path, replies: list) -> Path:
    """An --answers file: one JSON value per reply (a string is a reply; a dict a tool result)."""
    path = tmp / "answers.jsonl"
    path.write_text("".join(json.dumps(reply) + "\n" for reply in replies))
    return path


def start(tmp: Path, program: str, *extra: str, answers: list | str | None = None,
          params: dict[str, str] | None = None, program_path: str | None = None, **kwargs) -> Run:
    """`spak run` of a contract program in `tmp` (runs in tmp/runs), copied there so that
    messages name it as `NAME.spak`, as a user who runs it from its folder sees it.
    `answers` is a list of replies, or the name of a fixture .jsonl file."""
    if program_path is None:
        shutil.copy(CONTRACT / program, tmp / program)
    args = ["run", program_path or program, "--runs-dir", "runs"]
    if isinstance(answers, str):
        args += ["--answers", str(CONTRACT / answers)]
    elif answers is not None:
        args += ["--answers", str(answers_file(tmp, answers))]
    for name, value in (params or {}).items():
        args += ["--param", f"{name}={value}"]
    result = spak(*args, *extra, cwd=tmp, **kwargs)
    folders = run_folders(tmp / "runs")
    assert len(folders) <= 1
    return Run(result, folders[0] if folders else None, tmp)


def expect(run: Run, code: int) -> None:
    assert run.result.returncode == code, f"exit {run.result.returncode}\n{run.result.stdout}\n{run.result.stderr}"


# ---------------------------------------------------------------------------------------------
# 1. When invariants are checked


def test_the_classic_retry_checks_only_current_values(tmp_path: Path) -> None:
    run = start(tmp_path, "stale_retry.spak", answers="stale_retry.jsonl")
    expect(run, 0)
    assert run.checks() == [
        ("balanced", ("step", "verify"), False, {"total": 10, "line_sum": 7}),
        ("balanced", ("step", "verify"), True, {"total": 7, "line_sum": 7}),
    ], "after the retry, `balanced` must not be checked after `extract` on the old line_sum"
    assert run.retries() == [("verify", "extract", 1, "invariant")]
    assert run.outcomes() == [("extract", "completed"), ("verify", "violated"), ("extract", "completed"),
                              ("verify", "completed")]
    (retry,) = run.of_type("retry")
    assert retry["feedback"] == ("invariant `balanced` (total == line_sum) does not hold after step `verify`; "
                                 "line_sum = 7, total = 10")
    assert retry["max"] == 2
    # The second prompt shows the feedback; after the step succeeds it is empty again.
    prompts = [e["request"]["prompt"] for e in run.of_type("effect.requested")]
    assert "Rejected" not in prompts[0] and "Rejected: invariant `balanced`" in prompts[1]
    assert run.bound("feedback")[-1] == "" and run.bound("feedback_kind")[-1] == ""
    assert run.metrics()["metrics"] == {"final_total": 7}
    assert run.state()["stale"] == []


def test_a_violation_is_checked_in_order_of_events(tmp_path: Path) -> None:
    """The check comes after the binding it reads and before the step's end."""
    run = start(tmp_path, "stale_retry.spak", answers="stale_retry.jsonl")
    kinds = [(e["type"], e.get("name") or e.get("step")) for e in run.events
             if e["type"] in ("var.bound", "invariant.checked", "step.finished", "retry")]
    first_check = kinds.index(("invariant.checked", "balanced"))
    assert kinds[first_check - 1] == ("var.bound", "line_sum")
    assert kinds[first_check + 1] == ("step.finished", "verify")
    assert kinds[first_check + 2] == ("retry", "verify")


def test_feedback_names_the_values_of_the_latest_pass(tmp_path: Path) -> None:
    replies = [{"total": 10, "a": 3, "b": 4}, {"total": 12, "a": 5, "b": 6}, {"total": 7, "a": 2, "b": 5}]
    run = start(tmp_path, "stale_retry.spak", answers=[json.dumps(r) for r in replies])
    expect(run, 0)
    feedbacks = [e["feedback"] for e in run.of_type("retry")]
    assert feedbacks == [
        "invariant `balanced` (total == line_sum) does not hold after step `verify`; line_sum = 7, total = 10",
        "invariant `balanced` (total == line_sum) does not hold after step `verify`; line_sum = 11, total = 12",
    ]
    assert [attempt for _, _, attempt, _ in run.retries()] == [1, 2]
    assert [c[3] for c in run.checks()] == [{"total": 10, "line_sum": 7}, {"total": 12, "line_sum": 11},
                                            {"total": 7, "line_sum": 7}]


def test_retries_run_out(tmp_path: Path) -> None:
    wrong = json.dumps({"total": 10, "a": 3, "b": 4})
    run = start(tmp_path, "stale_retry.spak", answers=[wrong, wrong, wrong])
    expect(run, 1)
    assert run.retries() == [("verify", "extract", 1, "invariant"), ("verify", "extract", 2, "invariant")]
    reason = run.failure()["reason"]
    assert "invariant `balanced`" in reason and "was retried 2 times (max 2)" in reason
    assert run.outcomes()[-1] == ("verify", "violated")
    assert run.trace()["run"]["status"] == "failed"


def test_a_retry_that_suspends_leaves_the_old_pass_stale(tmp_path: Path) -> None:
    wrong = json.dumps({"total": 10, "a": 3, "b": 4})
    run = start(tmp_path, "stale_retry.spak", answers=[wrong])
    expect(run, 3)
    assert sorted(run.state()["stale"]) == ["invoice", "line_sum", "total"]
    prompt = (run.folder / "pending" / "prompt.md").read_text()
    assert "Rejected: invariant `balanced` (total == line_sum) does not hold after step `verify`" in prompt
    # Answered by hand, `extract` binds a new total; line_sum is still stale: no check there.
    done = run.resume("--response", "-", input=json.dumps({"total": 9, "a": 4, "b": 5}), check_code=0)
    assert "completed" in done.stdout
    assert [(name, where, ok) for name, where, ok, _ in run.checks()] == [
        ("balanced", ("step", "verify"), False), ("balanced", ("step", "verify"), True)]
    assert run.state()["stale"] == []


def test_one_step_at_a_time_keeps_the_stale_values(tmp_path: Path) -> None:
    straight = start(tmp_path, "stale_retry.spak", answers="stale_retry.jsonl")
    (tmp_path / "stepped").mkdir()
    stepped = start(tmp_path / "stepped", "stale_retry.spak", "--step", answers="stale_retry.jsonl")
    expect(stepped, 0)
    stales = []
    for _ in range(4):
        spak("step", stepped.folder.name, "--runs-dir", "runs", "--answers", str(CONTRACT / "stale_retry.jsonl"),
             cwd=stepped.tmp, check_code=0)
        stales.append(sorted(stepped.state()["stale"]))
    assert stales[0] == ["invoice", "line_sum", "total"], "after the retry, the snapshot says what is stale"
    assert stales[1] == ["line_sum"] and stales[-1] == []
    assert stepped.checks() == straight.checks()
    assert stepped.retries() == straight.retries()


def test_a_fork_after_a_retry_keeps_the_stale_values(tmp_path: Path) -> None:
    parent = start(tmp_path, "stale_retry.spak", answers="stale_retry.jsonl")
    (tmp_path / "answer.txt").write_text(json.dumps({"total": 9, "a": 4, "b": 5}))
    spak("fork", parent.folder.name, "--at", "extract#2", "--response", "answer.txt", "--runs-dir", "runs",
         cwd=tmp_path, check_code=0)
    (child,) = [f for f in run_folders(tmp_path / "runs") if f != parent.folder]
    fork = Run(parent.result, child, tmp_path)
    own = [e for e in fork.events if e["seq"] >= fork.of_type("run.forked")[0]["seq"]]
    assert [(e["name"], e["step"], e["ok"], e["values"]) for e in own if e["type"] == "invariant.checked"] == [
        ("balanced", "verify", True, {"total": 9, "line_sum": 9})]


def test_a_crash_after_a_retry_recovers_the_stale_values(tmp_path: Path) -> None:
    wrong = json.dumps({"total": 10, "a": 3, "b": 4})
    run = start(tmp_path, "stale_retry.spak", answers=[wrong])
    expect(run, 3)
    saved = (run.folder / "state.json").read_bytes()
    run.resume("--response", "-", input=json.dumps({"total": 9, "a": 4, "b": 5}), check_code=0)
    checks = run.checks()
    # A crash between the log and the snapshot: the log holds the rest of the run, the snapshot does not.
    (run.folder / "state.json").write_bytes(saved)
    again = run.resume(check_code=0)
    assert "recovered" in again.stderr
    assert run.checks() == checks
    assert [c[:3] for c in checks] == [("balanced", ("step", "verify"), False), ("balanced", ("step", "verify"), True)]
    assert run.trace()["events"] == run.events


def test_an_invariant_waits_until_every_variable_it_reads_is_bound(tmp_path: Path) -> None:
    run = start(tmp_path, "stale_retry.spak", answers=[json.dumps({"total": 7, "a": 3, "b": 4})])
    expect(run, 0)
    # `extract` bound `total` while `line_sum` had no value: nothing was checked there.
    assert run.checks() == [("balanced", ("step", "verify"), True, {"total": 7, "line_sum": 7})]


def test_nested_retries(tmp_path: Path) -> None:
    run = start(tmp_path, "nested_retry.spak", answers="nested_retry.jsonl")
    expect(run, 0)
    assert run.checks() == [
        ("first_pair", ("step", "two"), False, {"a": 1, "b": 5}),
        # `one` runs again: `b` is stale, so `first_pair` waits for `two`.
        ("first_pair", ("step", "two"), True, {"a": 4, "b": 5}),
        ("second_pair", ("step", "three"), False, {"b": 5, "c": 9}),
        # Back to `two`: `a` is still current (bound before `two` began), `c` is stale.
        ("first_pair", ("step", "two"), True, {"a": 4, "b": 5}),
        ("second_pair", ("step", "three"), True, {"b": 5, "c": 6}),
    ]
    assert run.retries() == [("two", "one", 1, "invariant"), ("three", "two", 1, "invariant")]
    assert [e["step"] for e in run.of_type("step.started")] == ["one", "two", "one", "two", "three", "two", "three"]


def test_retries_across_loop_iterations(tmp_path: Path) -> None:
    run = start(tmp_path, "loop_retry.spak", answers="loop_retry.jsonl")
    expect(run, 0)
    assert run.checks() == [
        ("within_round", ("step", "confirm"), True, {"confirmed": 10, "i": 1}),
        ("within_round", ("binding", "i"), True, {"confirmed": 10, "i": 2}),
        ("within_round", ("step", "confirm"), False, {"confirmed": 99, "i": 2}),
        # The loop variable is not stale after the retry; `confirmed` is until `confirm` binds it.
        ("within_round", ("step", "confirm"), True, {"confirmed": 20, "i": 2}),
        ("within_round", ("binding", "i"), True, {"confirmed": 20, "i": 3}),
        ("within_round", ("step", "confirm"), False, {"confirmed": 77, "i": 3}),
        ("within_round", ("step", "confirm"), True, {"confirmed": 30, "i": 3}),
    ]
    # A step that succeeded starts its count again: each iteration gets its own `max 1`.
    assert run.retries() == [("confirm", "ask", 1, "invariant"), ("confirm", "ask", 1, "invariant")]
    assert run.bound("i") == [1, 2, 3], "a retry inside the loop body does not re-bind the loop variable"
    prompts = [e["request"]["prompt"] for e in run.of_type("effect.requested")]
    assert prompts[2].startswith("Round 2: give 2 times ten. (invariant `within_round`")


def test_a_retry_inside_a_loop_runs_out(tmp_path: Path) -> None:
    run = start(tmp_path, "loop_retry.spak", answers=["10", "99", "98"])
    expect(run, 1)
    assert run.retries() == [("confirm", "ask", 1, "invariant")]
    assert "was retried 1 time (max 1)" in run.failure()["reason"]


def test_a_retry_whose_span_holds_a_let_and_a_loop(tmp_path: Path) -> None:
    run = start(tmp_path, "retry_span_loop.spak", answers="retry_span_loop.jsonl")
    expect(run, 0)
    assert run.checks() == [
        ("scaled", ("binding", "scale"), True, {"scale": 20, "limit": 2}),
        ("in_range", ("binding", "i"), True, {"i": 1, "limit": 2}),
        ("in_range", ("binding", "i"), True, {"i": 2, "limit": 2}),
        ("complete", ("step", "verify"), False, {"done": 3, "limit": 2}),
        # `plan` binds limit = 3: scale, i and done are stale, nothing is checked after `plan`.
        ("scaled", ("binding", "scale"), True, {"scale": 30, "limit": 3}),
        ("in_range", ("binding", "i"), True, {"i": 1, "limit": 3}),
        ("in_range", ("binding", "i"), True, {"i": 2, "limit": 3}),
        ("in_range", ("binding", "i"), True, {"i": 3, "limit": 3}),
        ("complete", ("step", "verify"), True, {"done": 3, "limit": 3}),
    ]
    assert run.retries() == [("verify", "plan", 1, "invariant")]
    assert run.bound("i") == [1, 2, 1, 2, 3], "the retry re-runs the loop from its start"
    assert [e["step"] for e in run.of_type("step.started")].count("work") == 5


def test_a_stale_value_in_a_branch_not_taken_is_never_checked(tmp_path: Path) -> None:
    run = start(tmp_path, "stale_branch.spak", answers="stale_branch.jsonl")
    expect(run, 0)
    assert run.checks() == [
        ("warning_matches", ("step", "extract"), True, {"warning": "big", "total": 150}),
        ("bounded", ("step", "verify"), False, {"checked": 150}),
        # Pass two does not bind `warning`: `warning_matches` would fail on the old "big".
        ("bounded", ("step", "verify"), True, {"checked": 20}),
    ]
    assert run.state()["stale"] == ["warning"]
    assert run.state()["variables"]["warning"] == "big", "a stale value keeps its value"


def test_a_let_in_a_loop_breaks_an_invariant_on_the_third_iteration(tmp_path: Path) -> None:
    run = start(tmp_path, "let_in_loop.spak")
    expect(run, 1)
    assert run.checks() == [
        ("small", ("binding", "doubled"), True, {"doubled": 2}),
        ("small", ("binding", "doubled"), True, {"doubled": 4}),
        ("small", ("binding", "doubled"), False, {"doubled": 10}),
    ]
    failure = run.failure()
    assert failure["location"] == "13:5"
    assert failure["reason"] == ("let_in_loop.spak:13:5: invariant `small` (doubled < 10) does not hold after "
                                 "`let doubled`; doubled = 10")
    assert "step" not in failure
    assert [e["step"] for e in run.of_type("step.started")] == ["visit"] * 3
    assert run.of_type("retry") == []
    assert f"run {run.folder.name} failed: let_in_loop.spak:13:5: invariant `small`" in run.result.stdout


def test_a_loop_variable_breaks_an_invariant(tmp_path: Path) -> None:
    run = start(tmp_path, "loop_var_invariant.spak")
    expect(run, 1)
    assert run.checks() == [
        ("below_three", ("binding", "i"), True, {"i": 1}),
        ("below_three", ("binding", "i"), True, {"i": 2}),
        ("below_three", ("binding", "i"), False, {"i": 3}),
    ]
    failure = run.failure()
    assert failure["location"] == "8:10"
    assert failure["reason"] == ("loop_var_invariant.spak:8:10: invariant `below_three` (i < 3) does not hold when "
                                 "the loop variable `i` was bound; i = 3")
    assert len(run.of_type("step.started")) == 2


def test_invariants_over_parameters_are_checked_at_the_start_on_the_values_given(tmp_path: Path) -> None:
    run = start(tmp_path, "start_invariants.spak")
    expect(run, 0)
    assert run.checks() == [
        ("positive", ("start",), True, {"limit": 3}),
        ("constant", ("start",), True, {}),
        ("labelled", ("start",), True, {"label": "a", "feedback": ""}),
        # `retried` is a parameter the program rebinds: checked on the value given, then at its binding.
        ("rebound", ("start",), True, {"retried": 0}),
        ("rebound", ("binding", "retried"), True, {"retried": 4}),
    ]
    types = [e["type"] for e in run.events]
    assert types.index("step.started") > max(i for i, t in enumerate(types[:6]) if t == "invariant.checked")
    assert types[1:5] == ["invariant.checked"] * 4, "start checks come right after run.started"


def test_a_parameter_that_breaks_an_invariant_fails_before_the_first_step(tmp_path: Path) -> None:
    run = start(tmp_path, "start_invariants.spak", params={"limit": "0"})
    expect(run, 1)
    assert run.checks() == [("positive", ("start",), False, {"limit": 0})]
    assert run.of_type("step.started") == []
    failure = run.failure()
    assert failure["location"] == "6:25"
    assert failure["reason"] == ("start_invariants.spak:6:25: invariant `positive` (limit > 0) does not hold before "
                                 "the first step; limit = 0")
    assert run.trace()["run"]["status"] == "failed"


def test_a_rebound_parameter_breaks_an_invariant_at_its_let(tmp_path: Path) -> None:
    run = start(tmp_path, "start_invariants.spak", params={"limit": "5"})
    expect(run, 1)
    assert run.checks()[-1] == ("rebound", ("binding", "retried"), False, {"retried": 6})
    assert run.failure()["location"] == "16:3"


def test_an_invariant_that_throws_in_a_step_is_retried(tmp_path: Path) -> None:
    run = start(tmp_path, "invariant_throws.spak", answers="invariant_throws.jsonl")
    expect(run, 0)
    first, second = run.of_type("invariant.checked")
    assert first["ok"] is False and first["step"] == "grade" and first["values"] == {"review": {"grade": 3}}
    assert "no key `score`" in first["error"]
    assert second["ok"] is True and "error" not in second
    (retry,) = run.of_type("retry")
    assert retry["kind"] == "invariant"
    assert retry["feedback"].startswith("invariant `scored` (review.score >= 5) does not hold after step `grade`: ")
    assert "no key `score`" in retry["feedback"]
    assert run.outcomes() == [("grade", "violated"), ("grade", "completed")]


def test_an_invariant_that_throws_at_the_start_fails_the_run(tmp_path: Path) -> None:
    run = start(tmp_path, "invariant_throws_outside.spak", params={"code": "x"})
    expect(run, 1)
    (check,) = run.of_type("invariant.checked")
    assert check["when"] == "start" and check["ok"] is False and "is not a number" in check["error"]
    assert run.of_type("step.started") == []
    reason = run.failure()["reason"]
    assert reason.startswith("invariant_throws_outside.spak:5:29: invariant `code_numeric` (int(code) >= 0) does not "
                             "hold before the first step: ")


def test_an_invariant_that_throws_after_a_let_fails_the_run(tmp_path: Path) -> None:
    run = start(tmp_path, "invariant_throws_outside.spak", params={"text": "abc"})
    expect(run, 1)
    assert [(c[0], c[1], c[2]) for c in run.checks()] == [
        ("code_numeric", ("start",), True), ("value_numeric", ("binding", "value"), False)]
    failure = run.failure()
    assert failure["location"] == "13:3" and "is not a number" in failure["reason"]
    assert [e["step"] for e in run.of_type("step.started")] == ["first"]
    assert run.of_type("retry") == []


# ---------------------------------------------------------------------------------------------
# 3. Run-time errors inside a step


def test_runtime_errors_are_retried_with_the_error_in_feedback(tmp_path: Path) -> None:
    run = start(tmp_path, "runtime_errors.spak", answers="runtime_errors.jsonl")
    expect(run, 0)
    retries = run.of_type("retry")
    assert [(e["attempt"], e["kind"], e["target"]) for e in retries] == [(n, "runtime_error", "compute") for n in range(1, 6)]
    expected = ["runtime_errors.spak:13:16: parse_json()", "runtime_errors.spak:14:23: the map has no key `items`",
                "index 5 is out of range", "int(): `x` is not a number", "division by zero"]
    for retry, text in zip(retries, expected):
        assert retry["feedback"].startswith("step `compute` failed at runtime_errors.spak:"), retry
        assert text in retry["feedback"], retry
    assert run.outcomes() == [("compute", "error")] * 5 + [("compute", "completed")]
    assert run.bound("feedback_kind") == ["runtime_error"] * 5 + [""]
    assert run.bound("feedback")[:5] == [e["feedback"] for e in retries]
    assert run.checks() == [("positive", ("step", "compute"), True, {"ratio": 4.0})]
    prompts = [e["request"]["prompt"] for e in run.of_type("effect.requested")]
    assert "Last time: step `compute` failed at runtime_errors.spak:13:16" in prompts[1]


def test_runtime_errors_run_out_of_retries(tmp_path: Path) -> None:
    run = start(tmp_path, "runtime_errors.spak", answers=["nope"] * 6)
    expect(run, 1)
    assert len(run.of_type("retry")) == 5
    reason = run.failure()["reason"]
    assert "parse_json()" in reason and "was retried 5 times (max 5)" in reason
    assert run.outcomes()[-1] == ("compute", "error")
    assert "was retried 5 times" in run.result.stdout


def test_feedback_kind_follows_each_kind_of_failure(tmp_path: Path) -> None:
    run = start(tmp_path, "feedback_kinds.spak", answers="feedback_kinds.jsonl")
    expect(run, 0)
    assert [kind for _, _, _, kind in run.retries()] == ["reply", "runtime_error", "invariant"]
    assert run.bound("feedback_kind") == ["reply", "runtime_error", "invariant", ""]
    assert run.outcomes() == [("ask", "violated"), ("ask", "error"), ("ask", "violated"), ("ask", "completed")]
    assert "is not JSON" in run.of_type("retry")[0]["feedback"]


def test_a_program_reads_feedback_kind(tmp_path: Path) -> None:
    checked = spak("check", str(CONTRACT / "feedback_kind_read.spak"), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    run = start(tmp_path, "feedback_kind_read.spak", answers="feedback_kinds.jsonl")
    expect(run, 0)
    prompts = [e["request"]["prompt"] for e in run.of_type("effect.requested")]
    assert [p.split(".")[0] for p in prompts] == ["kind=", "kind=reply", "kind=runtime_error", "kind=invariant"]
    # Pass one stops at the reply, before `let seen_kind`.
    assert run.bound("seen_kind") == ["reply", "runtime_error", "invariant"]
    assert run.of_type("run.completed")[0]["metrics"] == {"final_kind": "", "kind_seen": "invariant"}


def test_a_missing_file_is_retried_and_names_the_workspace(tmp_path: Path) -> None:
    run = start(tmp_path, "read_missing_retry.spak", answers=["missing.txt", "present.txt"])
    expect(run, 0)
    (retry,) = run.of_type("retry")
    assert retry["kind"] == "runtime_error" and retry["target"] == "load"
    assert "notes/missing.txt" in retry["feedback"] and "workspace" in retry["feedback"]
    assert "--workspace" in retry["feedback"]
    assert run.bound("text") == ["hello"]
    assert run.checks() == [("nonempty", ("step", "load"), True, {"text": "hello"})]


def test_a_missing_file_without_retries_left_fails_naming_the_workspace(tmp_path: Path) -> None:
    run = start(tmp_path, "read_missing_retry.spak", answers=["missing.txt", "gone.txt"])
    expect(run, 1)
    reason = run.failure()["reason"]
    assert "notes/gone.txt" in reason and "the workspace is" in reason and "--workspace" in reason
    assert "was retried 1 time (max 1)" in reason


@pytest.mark.parametrize("replies, step", [(["x"], "strict"), (["1", "x"], "lax")])
def test_a_runtime_error_without_a_retry_policy_fails_at_once(tmp_path: Path, replies: list, step: str) -> None:
    run = start(tmp_path, "no_policy_errors.spak", answers=replies)
    expect(run, 1)
    assert run.of_type("retry") == []
    failure = run.failure()
    assert failure["step"] == step and "int(): `x` is not a number" in failure["reason"]
    assert failure["reason"].startswith("no_policy_errors.spak:")
    assert len(run.of_type("effect.requested")) == len(replies)


@pytest.mark.parametrize("command", ["rm", "echo2", "sh"])
def test_a_refused_command_is_not_retried(tmp_path: Path, command: str) -> None:
    run = start(tmp_path, "refused_command.spak", params={"cmd": command})
    expect(run, 1)
    assert len(run.of_type("effect.refused")) == 1
    assert run.of_type("retry") == [] and run.of_type("effect.answered") == []
    assert "no allow line admits it" in run.failure()["reason"]
    assert run.bound("feedback") == []


@pytest.mark.parametrize("path, reason", [("../x.txt", "climbs out"), ("/etc/passwd", "is absolute"),
                                          ("a/../../x.txt", "climbs out")])
def test_a_path_leaving_the_workspace_is_not_retried(tmp_path: Path, path: str, reason: str) -> None:
    run = start(tmp_path, "escape_path.spak", params={"path": path})
    expect(run, 1)
    assert run.of_type("retry") == []
    assert reason in run.failure()["reason"]
    assert len(run.of_type("effect.requested")) == 1


def test_an_invariant_broken_in_a_step_with_on_fail_fail_ends_the_run(tmp_path: Path) -> None:
    run = start(tmp_path, "no_policy_errors.spak", answers=["-1"])
    expect(run, 1)
    assert run.checks() == [("fine", ("step", "strict"), False, {"x": -1})]
    assert run.outcomes() == [("strict", "violated")]
    assert run.of_type("retry") == []
    assert run.failure()["reason"] == "no_policy_errors.spak:5:21: invariant `fine` (x >= 0) does not hold after step `strict`; x = -1"
    assert run.failure()["step"] == "strict" and run.failure()["location"] == "5:21"


def test_long_values_are_abbreviated_in_checks_and_messages(tmp_path: Path) -> None:
    run = start(tmp_path, "long_values.spak", params={"text": "a" * 300})
    expect(run, 0)
    ((name, where, ok, values),) = run.checks()
    assert (name, where, ok) == ("short_enough", ("step", "keep"), True)
    assert values == {"note": json.dumps("a" * 300)[:200] + "\u2026 (302 bytes of JSON)"}
    (tmp_path / "again").mkdir()
    failed = start(tmp_path / "again", "long_values.spak", params={"text": "b" * 1200})
    expect(failed, 1)
    reason = failed.failure()["reason"]
    assert reason.endswith("; note = " + json.dumps("b" * 1200)[:117] + "...")
    assert failed.checks()[0][3]["note"].endswith("(1202 bytes of JSON)")


def test_a_symbolic_link_out_of_the_workspace_is_not_retried(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "out").symlink_to("../outside")
    run = start(tmp_path, "escape_path.spak", "--workspace", str(tmp_path / "ws"), params={"path": "out/secret.txt"})
    expect(run, 1)
    assert run.of_type("retry") == []
    assert "through a symbolic link" in run.failure()["reason"]
    assert run.bound("text") == []


# ---------------------------------------------------------------------------------------------
# Found while writing these tests


def test_a_retry_that_restarts_a_loop_is_still_bounded(tmp_path: Path) -> None:
    process = subprocess.Popen([str(spak_binary()), "run", str(CONTRACT / "endless_retry.spak"), "--runs-dir", "runs"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=3)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        (folder,) = run_folders(tmp_path / "runs")
        retries = (folder / "events.jsonl").read_text().count('"type":"retry"')
        raise AssertionError(f"spak was still running after 3 s, {retries} retries logged")
    assert process.returncode == 1, stdout + stderr
    run = Run(subprocess.CompletedProcess([], 1, stdout, stderr), run_folders(tmp_path / "runs")[0], tmp_path)
    assert run.retries() == [("check", "plan", 1, "invariant")]
    assert "was retried 1 time (max 1)" in run.failure()["reason"]
