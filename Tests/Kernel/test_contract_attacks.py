"""Regression tests for what an adversarial review of [contract] broke: each case is one it
found, with the promise it broke in the test's name."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

from conftest import run_folders, spak, spak_binary


def write(tmp: Path, name: str, text: str) -> str:
    (tmp / name).write_text(text)
    return name


def answers(tmp: Path, replies: list[str]) -> str:
    (tmp / "answers.jsonl").write_text("".join(json.dumps(reply) + "\n" for reply in replies))
    return "answers.jsonl"


def events(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def test_a_secret_assembled_in_a_metric_is_redacted_in_metrics_json_and_on_stdout(tmp_path: Path) -> None:
    program = write(tmp_path, "leak.spak", """task leak() {
  system_model {
    secret MY_SECRET
  }
  step ask {
    llm.query("first half") -> a
    llm.query("second half") -> b
  }
  evaluation {
    metric joined = a + b
    metric number = int(a + b)
  }
}
""")
    environment = {**os.environ, "MY_SECRET": "hunter2secret"}
    result = spak("run", program, "--answers", answers(tmp_path, ["hunter", "2secret"]), "--runs-dir", "runs",
                  cwd=tmp_path, env=environment, check_code=0)
    assert "hunter2secret" not in result.stdout
    (folder,) = run_folders(tmp_path / "runs")
    for path in folder.rglob("*"):
        if path.is_file():
            assert b"hunter2secret" not in path.read_bytes(), path
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["metrics"]["joined"] == "[redacted MY_SECRET]"
    assert "[redacted MY_SECRET]" in metrics["metric_errors"]["number"]


def test_an_infinite_number_is_a_failure_not_a_null_in_the_record(tmp_path: Path) -> None:
    program = write(tmp_path, "inf.spak", """task inf() {
  step rate {
    llm.query("Rate it.") -> reply
    let score = float(reply)
    on_fail retry rate max 1
  }
  step rated {
    llm.query("Rate it as JSON.") -> rating as json
    on_fail retry rated max 1
  }
  evaluation {
    metric s = score
  }
}
""")
    spak("run", program, "--answers", answers(tmp_path, ["1e999", "7", '{"score": 1e400}', '{"score": 7}']),
         "--runs-dir", "runs", cwd=tmp_path, check_code=0)
    (folder,) = run_folders(tmp_path / "runs")
    retries = [e for e in events(folder) if e["type"] == "retry"]
    assert [r["kind"] for r in retries] == ["runtime_error", "reply"]
    assert "infinite" in retries[0]["feedback"] and "out of range" in retries[1]["feedback"]
    assert all(e.get("value") is not None for e in events(folder) if e["type"] == "var.bound" and e["name"] == "score")
    spak("replay", str(folder), cwd=tmp_path, check_code=0)


def test_an_invariant_over_a_parameter_the_program_may_rebind_is_checked_on_the_given_value(tmp_path: Path) -> None:
    program = write(tmp_path, "clamp.spak", """task clamp(limit: int = 3) {
  system_model {
    invariant positive: limit > 0
  }
  if limit > 100 {
    step clamp_it {
      let limit = 100
    }
  }
  step work {
    let used = limit * 2
  }
}
""")
    result = spak("run", program, "--param", "limit=-5", "--runs-dir", "runs", cwd=tmp_path, check_code=1)
    assert "clamp.spak:3:25: invariant `positive` (limit > 0) does not hold before the first step; limit = -5" in result.stdout
    spak("run", program, "--param", "limit=500", "--runs-dir", "runs2", cwd=tmp_path, check_code=0)
    (folder,) = run_folders(tmp_path / "runs2")
    checks = [(e.get("when"), e.get("step"), e["values"]) for e in events(folder) if e["type"] == "invariant.checked"]
    assert checks == [("start", None, {"limit": 500}), (None, "clamp_it", {"limit": 100})]


def test_a_command_section_across_words_is_a_check_error_not_a_run_time_parser_dump(tmp_path: Path) -> None:
    program = write(tmp_path, "words.spak", """task words(files: list = ["a.txt", "b.txt"]) {
  system_model {
    allow tool.run "echo"
  }
  step show {
    tool.run("echo {{#files}} {{.}} {{/files}}") -> listed
  }
}
""")
    result = spak("check", program, cwd=tmp_path, check_code=1)
    assert "[E343]" in result.stdout and "each word of a tool.run command is rendered on its own" in result.stdout
    quoted = write(tmp_path, "quoted.spak", """task quoted(files: list = ["a.txt", "b.txt"]) {
  system_model {
    allow tool.run "echo"
  }
  step show {
    tool.run("echo '{{#files}} {{.}} {{/files}}'") -> listed
  }
}
""")
    spak("check", quoted, cwd=tmp_path, check_code=0)


def test_w315_does_not_call_a_step_whose_options_are_checked_at_run_time_unfailing(tmp_path: Path) -> None:
    program = write(tmp_path, "options.spak", """task options() {
  step ask {
    llm.query("Hello", max_tokens: 0) -> reply
    on_fail retry ask max 2
  }
}
""")
    result = spak("check", program, cwd=tmp_path, check_code=0)
    assert "W315" not in result.stderr
    result = spak("run", program, "--runs-dir", "runs", cwd=tmp_path, check_code=1)
    assert "was retried 2 times" in result.stdout


def test_spak_step_pauses_after_a_step_a_run_time_error_sends_back(tmp_path: Path) -> None:
    program = write(tmp_path, "pause.spak", """task pause() {
  step a {
    let x = [1][len(feedback_kind) - 9]
    on_fail retry a max 3
  }
  step c {
    let z = 1
  }
}
""")
    result = spak("run", program, "--step", "--runs-dir", "runs", cwd=tmp_path, check_code=0)
    assert "paused after 1 step" in result.stdout
    (folder,) = run_folders(tmp_path / "runs")
    assert [e["outcome"] for e in events(folder) if e["type"] == "step.finished"] == ["error"]


def test_a_printed_command_works_with_a_runs_folder_that_starts_with_a_dash(tmp_path: Path) -> None:
    program = write(tmp_path, "dash.spak", 'task dash() {\n  step ask {\n    llm.query("hi") -> r\n  }\n}\n')
    result = spak("run", program, "--runs-dir=-runs", cwd=tmp_path, check_code=3)
    command = result.stdout.split("then run: ", 1)[1].splitlines()[0]
    assert "--runs-dir=-runs" in command
    (folder,) = run_folders(tmp_path / "-runs")
    (folder / "response.txt").write_text("hello")
    words = shlex.split(command)
    assert words[0] == "spak"
    pasted = subprocess.run([str(spak_binary()), *words[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr


def test_a_fence_quoted_inside_a_longer_fence_is_not_the_answer(tmp_path: Path) -> None:
    program = write(tmp_path, "fence.spak", """task fence() {
  step rate {
    llm.query("Rate it as JSON.") -> verdict as json
    let score = verdict.score
  }
  evaluation {
    metric s = score
  }
}
""")
    reply = ("Here is how not to answer:\n````markdown\n```json\n{\"score\": 10}\n```\n````\n"
             "My answer:\n```json\n{\"score\": 3}\n```\n")
    spak("run", program, "--answers", answers(tmp_path, [reply]), "--runs-dir", "runs", cwd=tmp_path, check_code=0)
    (folder,) = run_folders(tmp_path / "runs")
    assert json.loads((folder / "metrics.json").read_text())["metrics"] == {"s": 3}


def test_negating_the_smallest_integer_says_it_overflows(tmp_path: Path) -> None:
    program = write(tmp_path, "negate.spak", """task negate() {
  step s {
    let x = -int("-9223372036854775808")
  }
}
""")
    result = spak("run", program, "--runs-dir", "runs", cwd=tmp_path, check_code=1)
    assert "integer overflow in unary `-`" in result.stdout
