"""Adversarial tests of the agent's hands (issue [tools]): `tool.run --live`, workspace
confinement and secrets, with real `spak` processes running real commands.

Every test runs in a scratch folder that holds, beside the workspace and the runs folder, an
`outside/` folder and the HOME that commands get; each test checks that neither changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import run_folders, spak_binary

SECRET = "sk-planted-7f3a9c2e-secret-value"


@dataclass
class Run:
    result: subprocess.CompletedProcess
    folder: Path | None
    events: list[dict]

    def bound(self, name: str):
        """The last value the run bound to `name`."""
        values = [e["value"] for e in self.events if e["type"] == "var.bound" and e["name"] == name]
        assert values, f"nothing bound to {name}; events: {[e['type'] for e in self.events]}\n{self.result.stderr}"
        return values[-1]

    def of_type(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["type"] == kind]

    def answered(self) -> list[dict]:
        return [e for e in self.of_type("effect.answered") if e["effect"] == "tool.run"]


class Scratch:
    """A scratch folder: workspace, runs, outside/ (bait) and home/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workspace = root / "ws"
        self.runs = root / "runs"
        self.outside = root / "outside"
        self.home = root / "home"
        for folder in (self.workspace, self.outside, self.home):
            folder.mkdir()
        (self.outside / "sentinel.txt").write_text("do not touch\n")
        (self.home / ".profile").write_text("# home\n")
        self.before = self.snapshot()

    def snapshot(self) -> dict[str, str]:
        """Every entry under outside/ and home/ (and the scratch root's own entries)."""
        entries: dict[str, str] = {}
        for top in (self.outside, self.home):
            for path in [top, *top.rglob("*")]:
                key = str(path.relative_to(self.root))
                if path.is_symlink():
                    entries[key] = "link:" + os.readlink(path)
                elif path.is_file():
                    entries[key] = hashlib.sha256(path.read_bytes()).hexdigest()
                else:
                    entries[key] = "dir"
        ours = {"program.spak", "runs", "answers.jsonl", "cache"}
        entries["."] = ",".join(sorted(p.name for p in self.root.iterdir() if p.name not in ours))
        return entries

    def assert_outside_unchanged(self) -> None:
        assert self.snapshot() == self.before, "something outside the workspace changed"

    def run(self, program: str, *extra: str, params: dict[str, str] | None = None, env: dict[str, str] | None = None,
            live: bool = True, timeout: int = 120, measure_memory: bool = False) -> Run:
        path = self.root / "program.spak"
        path.write_text(program)
        args = [str(spak_binary()), "run", str(path), "--workspace", str(self.workspace), "--runs-dir", str(self.runs)]
        if live:
            args.append("--live")
        for name, value in (params or {}).items():
            args += ["--param", f"{name}={value}"]
        args += list(extra)
        environment = {"PATH": os.environ["PATH"], "HOME": str(self.home), "LANG": "C.UTF-8"}
        environment.update(env or {})
        if measure_memory:
            # A fresh Python whose only descendants are this spak and its commands reports their peak RSS.
            probe = "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; " \
                    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
            args = [sys.executable, "-c", probe, *args]
        result = subprocess.run(args, cwd=self.root, capture_output=True, text=True, timeout=timeout, env=environment)
        folders = run_folders(self.runs)
        folder = folders[-1] if folders else None
        events = []
        if folder is not None:
            events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
        return Run(result, folder, events)


@pytest.fixture
def scratch(tmp_path: Path) -> Scratch:
    s = Scratch(tmp_path)
    yield s
    s.assert_outside_unchanged()


def program(body: str, allow: tuple[str, ...] = ("sh", "echo", "python3"), model: str = "", params: str = "") -> str:
    allows = "\n".join(f'    allow tool.run "{prefix}"' for prefix in allow)
    return f"""task t({params}) {{
  system_model {{
{allows}
{model}
  }}
  step s {{
{body}
  }}
}}
"""


def failed_reason(run: Run) -> str:
    (failure,) = run.of_type("run.failed")
    return failure["reason"]


def stored(run: Run, reference: dict) -> bytes:
    if reference["bytes"] == 0:
        return b""
    return (run.folder / "tools" / reference["sha256"]).read_bytes()


# ---------------------------------------------------------------------------------------------
# Path traversal through tool.read and tool.write

TRAVERSALS = [
    ("tool.read", "../outside/sentinel.txt", "climbs out"),
    ("tool.read", "a/../../outside/sentinel.txt", "climbs out"),
    ("tool.read", "..", "climbs out"),
    ("tool.read", "./../outside/sentinel.txt", "climbs out"),
    ("tool.read", "/etc/passwd", "is absolute"),
    ("tool.write", "../outside/new.txt", "climbs out"),
    ("tool.write", "sub/..//../outside/sentinel.txt", "climbs out"),
    ("tool.write", "deep/a/b/../../../../outside/x", "climbs out"),
    ("tool.write", "/tmp/spak-escape-test.txt", "is absolute"),
]


@pytest.mark.parametrize("effect,path,reason", TRAVERSALS)
def test_path_traversal_is_refused(scratch: Scratch, effect: str, path: str, reason: str) -> None:
    call = f'tool.read("{path}") -> text' if effect == "tool.read" else f'tool.write("{path}", "pwned")'
    run = scratch.run(program(f"    {call}"))
    assert run.result.returncode == 1
    assert reason in failed_reason(run)
    assert not Path("/tmp/spak-escape-test.txt").exists()


def test_traversal_through_an_interpolated_parameter_is_refused(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.read("{{p}}") -> text', params='p: string = "x"'),
                      params={"p": "../outside/sentinel.txt"})
    assert run.result.returncode == 1
    assert "climbs out" in failed_reason(run)


def test_an_absolute_path_into_the_outside_folder_is_refused(scratch: Scratch) -> None:
    run = scratch.run(program(f'    tool.write("{scratch.outside}/new.txt", "pwned")'))
    assert "is absolute" in failed_reason(run)


def test_an_empty_path_is_refused(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.read("{{p}}") -> text', params='p: string = "x"'), params={"p": ""})
    assert "the path is empty" in failed_reason(run)


# ---------------------------------------------------------------------------------------------
# Symbolic links

def test_a_link_to_an_outside_folder_is_refused_for_reading(scratch: Scratch) -> None:
    (scratch.workspace / "out").symlink_to(scratch.outside)
    run = scratch.run(program('    tool.read("out/sentinel.txt") -> text'))
    assert "through a symbolic link" in failed_reason(run)


def test_a_link_to_an_outside_file_is_refused_for_writing(scratch: Scratch) -> None:
    (scratch.workspace / "s.txt").symlink_to(scratch.outside / "sentinel.txt")
    run = scratch.run(program('    tool.write("s.txt", "pwned")'))
    assert "through a symbolic link" in failed_reason(run)


def test_a_relative_link_climbing_out_is_refused(scratch: Scratch) -> None:
    (scratch.workspace / "up").symlink_to("../outside")
    run = scratch.run(program('    tool.write("up/new.txt", "pwned")'))
    assert "through a symbolic link" in failed_reason(run)


def test_a_dangling_link_to_an_outside_path_is_not_created_through(scratch: Scratch) -> None:
    (scratch.workspace / "later.txt").symlink_to(scratch.outside / "created-by-link.txt")
    run = scratch.run(program('    tool.write("later.txt", "pwned")'))
    assert "through a symbolic link" in failed_reason(run)


def test_a_link_chain_that_ends_outside_is_refused(scratch: Scratch) -> None:
    (scratch.workspace / "b").symlink_to("../outside")
    (scratch.workspace / "a").symlink_to("b")
    run = scratch.run(program('    tool.read("a/sentinel.txt") -> text'))
    assert "through a symbolic link" in failed_reason(run)


def test_a_link_loop_is_refused(scratch: Scratch) -> None:
    (scratch.workspace / "x").symlink_to("y")
    (scratch.workspace / "y").symlink_to("x")
    run = scratch.run(program('    tool.read("x") -> text'))
    assert "too many symbolic links" in failed_reason(run)


def test_links_that_stay_inside_are_followed(scratch: Scratch) -> None:
    (scratch.workspace / "real").mkdir()
    (scratch.workspace / "real" / "a.txt").write_text("inside")
    (scratch.workspace / "rel").symlink_to("real")
    (scratch.workspace / "abs").symlink_to(scratch.workspace.resolve() / "real")
    run = scratch.run(program('    tool.read("rel/a.txt") -> one\n    tool.write("abs/b.txt", "{{one}}!")\n'
                              '    tool.read("real/b.txt") -> two'))
    assert run.result.returncode == 0, run.result.stderr
    assert run.bound("two") == "inside!"


def test_a_link_made_by_tool_run_is_refused_for_writing(scratch: Scratch) -> None:
    run = scratch.run(program("    tool.run(\"sh -c 'ln -s ../outside escape'\") -> made\n"
                              '    tool.write("escape/pwned.txt", "pwned")'))
    assert run.answered()[0]["result"]["exit_code"] == 0
    assert (scratch.workspace / "escape").is_symlink()
    assert "through a symbolic link" in failed_reason(run)


def test_a_link_made_by_tool_run_is_refused_for_reading(scratch: Scratch) -> None:
    run = scratch.run(program("    tool.run(\"sh -c 'ln -s /etc/passwd passwd'\") -> made\n"
                              '    tool.read("passwd") -> text'))
    assert "through a symbolic link" in failed_reason(run)


# ---------------------------------------------------------------------------------------------
# Command injection through interpolated variables

@pytest.mark.parametrize("value", [
    "a; touch ../outside/pwned",
    "$(touch ../outside/pwned)",
    "`touch ../outside/pwned`",
    "x\ntouch ../outside/pwned",
    "a b  c | tee ../outside/pwned",
    "--version",
])
def test_an_interpolated_value_stays_one_argument(scratch: Scratch, value: str) -> None:
    run = scratch.run(program(
        "    tool.run(\"python3 -c 'import sys, json; print(json.dumps(sys.argv[1:]))' {{v}}\") -> out as json",
        params='v: string = "x"'), params={"v": value})
    assert run.result.returncode == 0, run.result.stderr
    assert run.bound("out") == [value]


# ---------------------------------------------------------------------------------------------
# The allow lines

def test_a_command_no_allow_line_admits_is_refused_and_recorded(scratch: Scratch) -> None:
    (scratch.workspace / "keep.txt").write_text("keep")
    run = scratch.run(program('    tool.run("{{c}} -f keep.txt") -> out', allow=("echo",), params='c: string = "echo"'),
                      params={"c": "rm"})
    assert run.result.returncode == 1
    (refusal,) = run.of_type("effect.refused")
    assert "no allow line admits it" in refusal["reason"] and "`echo`" in refusal["reason"]
    assert (scratch.workspace / "keep.txt").exists()
    assert not run.answered()


def test_an_allow_line_is_a_word_prefix_not_a_string_prefix(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("{{c}} hi") -> out', allow=("ech",), params='c: string = "x"'),
                      params={"c": "echo"})
    assert "no allow line admits it" in failed_reason(run)
    assert not run.answered()


def test_an_allowed_word_inside_a_shell_command_is_not_admitted(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("{{c}}", shell: true) -> out', allow=("python3",), params='c: string = "x"'),
                      params={"c": "python3 -c 1"})
    assert run.result.returncode == 1 and "E353" in run.result.stderr and run.folder is None


def test_a_templated_command_word_is_checked_at_run_time(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("{{c}} -c 1") -> out', allow=("python3",), params='c: string = "x"'),
                      params={"c": "python3x"})
    assert "refused `python3x -c 1`" in failed_reason(run)


def test_a_literal_command_not_allowed_never_starts_a_run(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("rm -rf ws") -> out', allow=("echo",)))
    assert run.result.returncode == 1
    assert "E353" in run.result.stderr
    assert run.folder is None


def test_shell_true_runs_under_an_sh_allow_line(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("printf \'a\\\\nb\\\\n\' | wc -l", shell: true) -> out', allow=("sh -c",)))
    assert run.result.returncode == 0, run.result.stderr
    assert run.bound("out")["stdout"].strip() == "2"


def test_without_live_nothing_executes(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("sh -c \'touch ran.txt\'") -> out'), live=False)
    assert run.result.returncode == 3
    assert not (scratch.workspace / "ran.txt").exists()
    assert (run.folder / "pending" / "request.json").exists()


# ---------------------------------------------------------------------------------------------
# Missing executables

def test_a_missing_executable_is_exit_code_127(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("spak-no-such-tool --x") -> out', allow=("spak-no-such-tool",)))
    assert run.result.returncode == 0, run.result.stderr
    out = run.bound("out")
    assert out["exit_code"] == 127 and "no such executable" in out["stderr"]
    assert run.answered()[0]["execution"]["error"] == "command not found"


def test_a_missing_relative_executable_is_exit_code_127(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("./missing.sh") -> out', allow=("./missing.sh",)))
    assert run.bound("out")["exit_code"] == 127


# ---------------------------------------------------------------------------------------------
# Timeouts, signals and children

def assert_dead(pid: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # A zombie that its (dead) parent left is reaped by init shortly.
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
                return
        except (FileNotFoundError, IndexError):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} is still alive")


def test_a_process_that_ignores_sigterm_is_killed(scratch: Scratch) -> None:
    started = time.monotonic()
    run = scratch.run(program(
        "    tool.run(\"sh -c 'trap \\\"\\\" TERM; echo $$ > pid.txt; while :; do sleep 0.1; done'\", timeout: 1s) -> out"))
    elapsed = time.monotonic() - started
    out = run.bound("out")
    assert out["timed_out"] is True and out["signal"] == 9 and out["exit_code"] == 137
    assert elapsed < 10
    assert_dead(int((scratch.workspace / "pid.txt").read_text()))


def test_children_that_hang_are_killed_with_their_group(scratch: Scratch) -> None:
    run = scratch.run(program(
        "    tool.run(\"sh -c 'sleep 300 & echo $! > child.txt; sleep 300 & echo $! >> child.txt; wait'\", timeout: 1s) -> out"))
    assert run.bound("out")["timed_out"] is True
    for pid in (scratch.workspace / "child.txt").read_text().split():
        assert_dead(int(pid))


def test_a_background_child_does_not_outlive_its_call(scratch: Scratch) -> None:
    started = time.monotonic()
    run = scratch.run(program("    tool.run(\"sh -c 'sleep 300 & echo $! > child.txt; echo done'\") -> out"))
    assert time.monotonic() - started < 10
    out = run.bound("out")
    assert out["exit_code"] == 0 and out["stdout"] == "done\n" and out["timed_out"] is False
    assert_dead(int((scratch.workspace / "child.txt").read_text()))


def test_the_program_default_timeout_applies(scratch: Scratch) -> None:
    run = scratch.run(program("    tool.run(\"sh -c 'sleep 30'\") -> out", model="    budget tool.timeout <= 1s"))
    out = run.bound("out")
    assert out["timed_out"] is True and out["signal"] == 15
    assert run.answered()[0]["execution"]["limits"]["timeout_s"] == 1.0


def test_a_call_cannot_wait_longer_than_the_program_allows(scratch: Scratch) -> None:
    run = scratch.run(program("    tool.run(\"sh -c 'sleep 30'\", timeout: 1h) -> out", model="    budget tool.timeout <= 1s"))
    assert run.bound("out")["timed_out"] is True
    assert run.answered()[0]["execution"]["limits"]["timeout_s"] == 1.0


def test_a_cpu_limit_stops_a_busy_loop(scratch: Scratch) -> None:
    run = scratch.run(program("    tool.run(\"python3 -c 'while True: pass'\", timeout: 30s) -> out",
                              model="    budget tool.cpu <= 1s"))
    out = run.bound("out")
    assert out["timed_out"] is False and out["signal"] in (24, 9)  # SIGXCPU, or SIGKILL at the hard limit


def test_a_memory_limit_stops_a_large_allocation(scratch: Scratch) -> None:
    run = scratch.run(program("    tool.run(\"python3 -c 'x = bytearray(2 * 1024 ** 3)'\") -> out",
                              model="    budget tool.memory <= 268435456"))
    out = run.bound("out")
    assert out["exit_code"] != 0 and "MemoryError" in out["stderr"]


# ---------------------------------------------------------------------------------------------
# Output

def test_a_gigabyte_of_output_is_capped_and_never_held_whole(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("head -c 1000000000 /dev/zero") -> out', allow=("head",)), measure_memory=True)
    out = run.bound("out")
    assert out["truncated"] is True and out["exit_code"] == 0
    reference = run.answered()[0]["result"]["stdout"]
    assert reference["seen_bytes"] == 1_000_000_000 and reference["bytes"] == 1 << 20
    assert len(stored(run, reference)) == 1 << 20
    peak_kib = int(run.result.stdout.split()[-1])
    assert peak_kib < 100 * 1024, f"spak peaked at {peak_kib} KiB"


def test_each_stream_is_capped_at_max_output(scratch: Scratch) -> None:
    run = scratch.run(program(
        "    tool.run(\"python3 -c 'import sys; print(\\\"o\\\" * 5000); print(\\\"e\\\" * 7000, file=sys.stderr)'\", "
        "max_output: 100) -> out"))
    out = run.bound("out")
    assert out["stdout"] == "o" * 100 and out["stderr"] == "e" * 100 and out["truncated"] is True
    result = run.answered()[0]["result"]
    assert result["stdout"]["seen_bytes"] == 5001 and result["stderr"]["seen_bytes"] == 7001


def test_binary_output_is_kept_byte_for_byte(scratch: Scratch) -> None:
    run = scratch.run(program(
        "    tool.run(\"python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))'\") -> out"))
    reference = run.answered()[0]["result"]["stdout"]
    assert stored(run, reference) == bytes(range(256))
    assert reference["utf8"] is False
    assert "\ufffd" in run.bound("out")["stdout"]


def test_invalid_utf8_on_stderr_is_kept_and_flagged(scratch: Scratch) -> None:
    run = scratch.run(program(
        "    tool.run(\"python3 -c 'import sys; sys.stderr.buffer.write(b\\\"ok \\\\xff\\\\xfe end\\\")'\") -> out"))
    reference = run.answered()[0]["result"]["stderr"]
    assert stored(run, reference) == b"ok \xff\xfe end"
    assert run.bound("out")["stderr"] == "ok \ufffd\ufffd end"


def test_non_json_output_bound_as_json_fails_the_step(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("echo not json") -> out as json', allow=("echo",)))
    assert run.result.returncode == 1
    assert "is not JSON" in failed_reason(run)


def test_reading_a_binary_file_is_a_clear_error(scratch: Scratch) -> None:
    (scratch.workspace / "blob.bin").write_bytes(b"abc\xffdef")
    run = scratch.run(program('    tool.read("blob.bin") -> text'))
    assert "is not UTF-8 text (byte 3" in failed_reason(run)


def test_reading_past_the_size_limit_is_a_clear_error(scratch: Scratch) -> None:
    (scratch.workspace / "big.txt").write_text("x" * 2000)
    run = scratch.run(program('    tool.read("big.txt", max_bytes: 1000) -> text'))
    assert "more than the limit of 1000" in failed_reason(run)


def test_a_write_replaces_a_file_atomically(scratch: Scratch) -> None:
    (scratch.workspace / "f.txt").write_text("old")
    run = scratch.run(program('    tool.write("sub/dir/f.txt", "new")\n    tool.write("f.txt", "new")'))
    assert run.result.returncode == 0, run.result.stderr
    assert (scratch.workspace / "f.txt").read_text() == "new"
    assert (scratch.workspace / "sub" / "dir" / "f.txt").read_text() == "new"
    assert not list(scratch.workspace.rglob("*.spak-tmp"))


# ---------------------------------------------------------------------------------------------
# Environment and secrets

ENV_DUMP = '    tool.run("env"{extra}) -> env'


def environment_of(run: Run) -> dict[str, str]:
    return dict(line.split("=", 1) for line in run.bound("env")["stdout"].splitlines())


def test_the_environment_is_scrubbed(scratch: Scratch) -> None:
    run = scratch.run(program(ENV_DUMP.format(extra=""), allow=("env",)),
                      env={"OPENAI_API_KEY": SECRET, "SOME_SETTING": "1", "AWS_SECRET_ACCESS_KEY": SECRET + "2"})
    assert set(environment_of(run)) == {"PATH", "HOME", "LANG", "TMPDIR"}


def test_variables_pass_only_by_name_and_names_are_recorded_not_values(scratch: Scratch) -> None:
    run = scratch.run(program(ENV_DUMP.format(extra=', env: ["SOME_SETTING", "MODE=fast", "UNSET_ONE"]'), allow=("env",)),
                      env={"SOME_SETTING": "abc"})
    env = environment_of(run)
    assert env["SOME_SETTING"] == "abc" and env["MODE"] == "fast" and "UNSET_ONE" not in env
    (requested,) = [e for e in run.of_type("effect.requested") if e["effect"] == "tool.run"]
    assert requested["request"]["env"] == ["SOME_SETTING", "MODE", "UNSET_ONE"]


def test_a_malformed_env_entry_fails_the_run(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("echo hi", env: ["1BAD=x"]) -> out', allow=("echo",)))
    assert "is not NAME or NAME=VALUE" in failed_reason(run)


def test_a_planted_secret_reaches_no_file_of_the_run(scratch: Scratch) -> None:
    body = """    tool.run("python3 -c 'import os, sys; k = os.environ[\\"OPENAI_API_KEY\\"]; print(k); print(k[:10], k[10:], file=sys.stderr); print(k, file=sys.stderr)'", env: ["OPENAI_API_KEY"]) -> leak
    tool.write("copy.txt", "{{leak.stdout}}")
    tool.read("copy.txt") -> copy
    tool.read("planted.txt") -> planted
    llm.query("Here is the key: {{planted}} and {{p}}") -> reply
"""
    (scratch.workspace / "planted.txt").write_text(f"key={SECRET}\n")
    answers = scratch.root / "answers.jsonl"
    answers.write_text(json.dumps(f"echo {SECRET}") + "\n")
    run = scratch.run(program(body, params='p: string = "x"'), "--answers", str(answers),
                      params={"p": SECRET}, env={"OPENAI_API_KEY": SECRET})
    assert run.result.returncode == 0, run.result.stderr
    assert run.bound("leak")["stdout"] == "[redacted OPENAI_API_KEY]\n"
    # The child really had it (its stderr shows the two halves, which are not the secret).
    assert SECRET[:10] in run.bound("leak")["stderr"]
    leaks = [str(p) for p in run.folder.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    leaks += [str(p) for p in scratch.workspace.rglob("*") if p.name != "planted.txt" and p.is_file()
              and SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert SECRET not in run.result.stdout + run.result.stderr


def test_a_declared_secret_is_redacted_whatever_its_name(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("python3 -c \'import os; print(os.environ[\\"MY_CRED\\"])\'", env: ["MY_CRED"]) -> out',
                              model="    secret MY_CRED"),
                      env={"MY_CRED": "hunter2-long-enough"})
    assert run.bound("out")["stdout"] == "[redacted MY_CRED]\n"
    assert b"hunter2-long-enough" not in (run.folder / "events.jsonl").read_bytes()


def test_a_secret_split_by_the_output_cap_is_still_redacted(scratch: Scratch) -> None:
    run = scratch.run(program(
        "    tool.run(\"python3 -c 'import os; print(\\\"x\\\" * 90 + os.environ[\\\"A_TOKEN\\\"])'\", env: [\"A_TOKEN\"], "
        "max_output: 100) -> out"), env={"A_TOKEN": SECRET})
    assert run.bound("out")["stdout"].endswith("[redacted A_TOKEN]")
    assert SECRET[:10].encode() not in b"".join(p.read_bytes() for p in (run.folder / "tools").iterdir())


# ---------------------------------------------------------------------------------------------
# Writes outside the workspace by commands (Landlock)

def confined(run: Run) -> bool:
    return run.answered()[0]["execution"]["confinement"].startswith("landlock")


def test_a_command_cannot_write_outside_the_workspace(scratch: Scratch) -> None:
    run = scratch.run(program("    tool.run(\"sh -c 'echo pwned > ../outside/pwned.txt; echo pwned > $HOME/pwned.txt'\") -> out"))
    if not confined(run):
        pytest.skip("this kernel has no Landlock")
    assert run.bound("out")["exit_code"] != 0
    assert "Permission denied" in run.bound("out")["stderr"]


def test_allow_write_opens_one_more_folder(scratch: Scratch) -> None:
    extra = scratch.root / "cache"
    extra.mkdir()
    run = scratch.run(program("    tool.run(\"sh -c 'echo ok > $0/c.txt' {{d}}\") -> out", params='d: string = "x"'),
                      "--allow-write", str(extra), params={"d": str(extra)})
    if not confined(run):
        pytest.skip("this kernel has no Landlock")
    assert run.bound("out")["exit_code"] == 0
    assert (extra / "c.txt").read_text() == "ok\n"


def test_a_tool_that_deletes_its_own_workspace(scratch: Scratch) -> None:
    (scratch.workspace / "a.txt").write_text("a")
    run = scratch.run(program("    tool.run(\"sh -c 'rm -rf \\\"$PWD\\\"'\") -> gone\n"
                              '    tool.write("after.txt", "still here")\n    tool.read("after.txt") -> after'))
    assert run.folder is not None and (run.folder / "events.jsonl").exists()
    if confined(run):
        # Its contents go; the folder itself is in a folder the command may not change.
        assert run.result.returncode == 0, run.result.stderr
        assert run.bound("after") == "still here" and not (scratch.workspace / "a.txt").exists()
    else:
        assert run.result.returncode == 1 and "cannot be opened" in failed_reason(run)


# ---------------------------------------------------------------------------------------------
# Recorded results are reused, never executed again

def test_a_recovered_run_reuses_recorded_results_without_executing(scratch: Scratch) -> None:
    text = """task t() {
  system_model {
    allow tool.run "sh"
  }
  step one {
    tool.run("sh -c 'echo one >> count.txt'") -> a
  }
  step two {
    tool.run("sh -c 'echo two >> count.txt'") -> b
    llm.query("go on?") -> reply
  }
}
"""
    first = scratch.run(text, "--step")
    assert first.result.returncode == 0, first.result.stderr
    folder = first.folder
    snapshot_after_one = (folder / "state.json").read_bytes()
    environment = {"PATH": os.environ["PATH"], "HOME": str(scratch.home)}
    step = subprocess.run([str(spak_binary()), "step", "--resume", str(folder), "--live", "--runs-dir", str(scratch.runs)],
                          capture_output=True, text=True, env=environment)
    assert step.returncode == 3, step.stderr
    assert (scratch.workspace / "count.txt").read_text() == "one\ntwo\n"
    # A crash between the log and the snapshot: the log holds step two's result, the snapshot does not.
    (folder / "state.json").write_bytes(snapshot_after_one)
    again = subprocess.run([str(spak_binary()), "step", "--resume", str(folder), "--live", "--runs-dir", str(scratch.runs)],
                           capture_output=True, text=True, env=environment)
    assert again.returncode == 3, again.stderr
    assert "recorded answer reused" in again.stderr
    assert (scratch.workspace / "count.txt").read_text() == "one\ntwo\n"


def test_live_traces_match_the_schema(scratch: Scratch) -> None:
    import jsonschema

    from conftest import REPO_ROOT

    schema = json.loads((REPO_ROOT / "docs" / "schema" / "trace.schema.json").read_text())
    completed = scratch.run(program("    tool.run(\"python3 -c 'import sys; sys.stdout.buffer.write(b\\\"\\\\xff\\\")'\") -> a\n"
                                    '    tool.run("spak-missing") -> b', allow=("python3", "spak-missing")))
    refused = scratch.run(program('    tool.run("{{c}}") -> out', allow=("echo",), params='c: string = "x"'), params={"c": "rm"})
    for run in (completed, refused):
        jsonschema.validate(json.loads((run.folder / "trace.json").read_text()), schema)
    assert completed.result.returncode == 0 and refused.result.returncode == 1


# ---------------------------------------------------------------------------------------------
# Found by an adversarial review

def test_a_writable_root_swapped_for_a_link_stays_what_it_was(scratch: Scratch) -> None:
    cache = scratch.workspace / "cache"
    cache.mkdir()
    run = scratch.run(program("    tool.run(\"sh -c 'rm -rf cache; ln -s ../../outside cache'\") -> swap\n"
                              "    tool.run(\"sh -c 'echo pwned > cache/pwned.txt'\") -> write"),
                      "--allow-write", str(cache))
    if not confined(run):
        pytest.skip("this kernel has no Landlock")
    assert run.bound("write")["exit_code"] != 0


def test_only_ordinary_devices_are_writable(scratch: Scratch) -> None:
    run = scratch.run(program("    tool.run(\"sh -c 'echo x > /dev/null && echo x > /dev/shm/spak-planted-$$'\") -> out"))
    if not confined(run):
        pytest.skip("this kernel has no Landlock")
    assert run.bound("out")["exit_code"] != 0 and "Permission denied" in run.bound("out")["stderr"]
    assert not [p for p in Path("/dev/shm").glob("spak-planted-*")]


def test_a_command_cannot_stop_spak(scratch: Scratch) -> None:
    started = time.monotonic()
    run = scratch.run(program("    tool.run(\"sh -c 'kill -STOP $PPID; sleep 30'\", timeout: 1s) -> out"))
    if not confined(run) or run.answered()[0]["execution"]["confinement"] < "landlock-6":
        pytest.skip("this kernel's Landlock cannot scope signals")
    assert run.bound("out")["timed_out"] is True
    assert time.monotonic() - started < 10


def test_a_secret_assembled_from_halves_reaches_no_file(scratch: Scratch) -> None:
    half = len(SECRET) // 2
    body = f"""    tool.run("python3 -c 'import os; print(os.environ[\\"A_TOKEN\\"][:{half}], end=\\"\\")'", env: ["A_TOKEN"]) -> a
    tool.run("python3 -c 'import os; print(os.environ[\\"A_TOKEN\\"][{half}:], end=\\"\\")'", env: ["A_TOKEN"]) -> b
    llm.query("the key is {{{{a.stdout}}}}{{{{b.stdout}}}}") -> reply
"""
    run = scratch.run(program(body), env={"A_TOKEN": SECRET})
    assert run.result.returncode == 3, run.result.stderr
    failing = program(body.replace('llm.query("the key is', 'tool.read("nope/').replace('-> reply', '-> text'))
    failed = scratch.run(failing, env={"A_TOKEN": SECRET})
    assert failed.result.returncode == 1
    for folder in (run.folder, failed.folder):
        assert [p for p in folder.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()] == []
    assert SECRET not in failed.result.stdout + failed.result.stderr


def test_a_secret_before_a_combining_mark_is_redacted(scratch: Scratch) -> None:
    (scratch.workspace / "planted.txt").write_bytes(f"key={SECRET}".encode() + b"\xcc\x81\n")
    run = scratch.run(program('    tool.read("planted.txt") -> planted'), env={"A_TOKEN": SECRET})
    assert run.result.returncode == 0, run.result.stderr
    assert [p for p in run.folder.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()] == []


def test_a_planted_temporary_file_is_never_written_through(scratch: Scratch) -> None:
    run = scratch.run(program("    tool.run(\"sh -c 'echo keep > c.txt; ln c.txt .b.txt.spak-tmp; mkfifo .d.txt.spak-tmp'\") -> plant\n"
                              '    tool.write("b.txt", "new")\n    tool.write("d.txt", "new")'), timeout=30)
    assert run.result.returncode == 0, run.result.stderr
    assert (scratch.workspace / "c.txt").read_text() == "keep\n"
    assert (scratch.workspace / "b.txt").read_text() == "new" and (scratch.workspace / "d.txt").read_text() == "new"


def test_an_impossible_output_cap_is_an_error_not_a_crash(scratch: Scratch) -> None:
    run = scratch.run(program('    tool.run("echo hi", max_output: 9223372036854775807) -> out', allow=("echo",)))
    assert run.result.returncode == 1 and "is more than the most spak keeps" in failed_reason(run)


def test_a_runs_folder_inside_the_workspace_is_refused(scratch: Scratch) -> None:
    path = scratch.root / "program.spak"
    path.write_text(program('    tool.run("echo hi") -> out', allow=("echo",)))
    result = subprocess.run([str(spak_binary()), "run", str(path), "--live", "--workspace", str(scratch.workspace),
                             "--runs-dir", str(scratch.workspace / "runs")], capture_output=True, text=True)
    assert result.returncode == 4 and "is inside the workspace" in result.stderr


def test_a_path_ending_in_a_slash_names_no_file(scratch: Scratch) -> None:
    (scratch.workspace / "a.txt").write_text("a")
    run = scratch.run(program('    tool.read("a.txt/") -> text'))
    assert "ends with `/`" in failed_reason(run)


def test_an_env_path_cannot_redirect_an_allowed_name(scratch: Scratch) -> None:
    fake = scratch.workspace / "bin"
    fake.mkdir()
    (fake / "echo").write_text("#!/bin/sh\necho fake\n")
    (fake / "echo").chmod(0o755)
    run = scratch.run(program('    tool.run("echo real", env: ["PATH={{p}}"]) -> out', allow=("echo",), params='p: string = "x"'),
                      params={"p": str(fake)})
    assert run.bound("out")["stdout"] == "real\n"


def test_temporary_files_a_crash_left_are_removed_by_the_next_write(scratch: Scratch) -> None:
    (scratch.workspace / ".f.txt.crashed1.spak-tmp").write_text("half")
    run = scratch.run(program('    tool.write("f.txt", "whole")'))
    assert run.result.returncode == 0, run.result.stderr
    assert sorted(p.name for p in scratch.workspace.iterdir() if p.name != ".tmp") == ["f.txt"]
