"""A run remembers the backend it started with (`backend.json` in its folder, never the API
key), `spak step --resume` and `spak fork` go on with it unless the command line says
otherwise, and the command printed to resume a run the server left suspended (exit 6) works
pasted into a shell as it is."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path


from backend_support import HELLO, KEY, ScriptedServer, events, run_folders, spak, spak_binary
from backend_support import serve  # noqa: F401 (a fixture)

FAILING = {"status": 503, "error": "overloaded"}


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without backend settings, with an API key, and with the
    tested `spak` first on PATH (as a pasted command finds it)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SPAK_", "OPENAI_", "OLLAMA_"))}
    return {**env, "OPENAI_API_KEY": KEY, "PATH": f"{spak_binary().parent}{os.pathsep}{env.get('PATH', '')}", **extra}


def start_failing(tmp: Path, server: ScriptedServer, *runs_dir: str) -> tuple[Path, subprocess.CompletedProcess]:
    """`spak run` against a server that fails both attempts: exit 6, the run suspended."""
    result = spak("run", str(HELLO), "--backend", "openai", "--base-url", server.openai_url, "--model", "tiny",
                  "--max-attempts", "2", "--retry-delay", "0.01", *runs_dir, cwd=tmp, env=environment(), check_code=6)
    (folder,) = run_folders(tmp / (runs_dir[1] if runs_dir else ".spak/runs"))
    return folder, result


def resume_hint(stderr: str) -> str:
    (hint,) = re.findall(r"\(resume it with `(.+)` once the cause is fixed\)", stderr)
    return hint


def paste(hint: str, tmp: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", "-c", hint], cwd=tmp, env=environment(**env), capture_output=True, text=True, timeout=120)


def answered(folder: Path) -> dict:
    (event,) = [e for e in events(folder) if e["type"] == "effect.answered" and e["effect"] == "llm.query"]
    return event


def test_a_run_the_server_left_suspended_resumes_with_plain_step_resume(tmp_path: Path, serve) -> None:
    server = serve([FAILING, FAILING, {"reply": "Hello, world!"}])
    folder, result = start_failing(tmp_path, server)
    assert resume_hint(result.stderr) == f"spak step --resume {folder.name}"
    remembered = json.loads((folder / "backend.json").read_text())
    assert remembered == {"format": "spak-backend", "version": 1, "backend": "openai", "base_url": server.openai_url,
                          "model": "tiny", "api_key_env": "OPENAI_API_KEY", "connect_timeout": 10, "first_byte_timeout": 120,
                          "timeout": 600, "max_attempts": 2, "retry_delay": 0.01, "max_retry_delay": 60, "stream": True}

    # The server has recovered; the shell that resumes has other backend settings, which the run ignores.
    elsewhere = environment(SPAK_BACKEND="ollama", SPAK_BASE_URL="http://127.0.0.1:9", SPAK_MODEL="other")
    spak("step", "--resume", folder.name, cwd=tmp_path, env=elsewhere, check_code=0)
    assert answered(folder)["answered_by"] == f"openai: tiny at http://127.0.0.1:{server.port}"
    assert [r["body"]["model"] for r in server.requests()] == ["tiny"] * 3
    assert (folder / "workspace" / "out" / "greeting.txt").read_text() == "Hello, world!"


def test_the_printed_command_resumes_the_run_pasted_as_it_is(tmp_path: Path, serve) -> None:
    server = serve([FAILING] * 3 + [{"reply": "Hello, world!"}])
    runs = "runs dir/it's $HOME"
    folder, first = start_failing(tmp_path, server, "--runs-dir", runs)
    hint = resume_hint(first.stderr)
    assert hint == f"spak step --resume {folder.name} --runs-dir 'runs dir/it'\\''s $HOME'"

    # Resumed with an option the run does not remember, the command printed repeats it.
    second = spak("step", "--resume", folder.name, "--runs-dir", runs, "--model", "other", "--max-attempts", "1",
                  cwd=tmp_path, env=environment(), check_code=6)
    hint = resume_hint(second.stderr)
    assert hint == f"spak step --resume {folder.name} --runs-dir 'runs dir/it'\\''s $HOME' --model other --max-attempts 1"
    pasted = paste(hint, tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert "completed" in pasted.stdout
    assert [r["body"]["model"] for r in server.requests()] == ["tiny", "tiny", "other", "other"]


def test_an_explicit_option_wins_over_the_remembered_one_and_none_turns_it_off(tmp_path: Path, serve) -> None:
    server = serve([FAILING])
    folder, _ = start_failing(tmp_path, server)
    waiting = spak("step", "--resume", folder.name, "--backend", "none", cwd=tmp_path, env=environment(), check_code=2)
    assert "no answer for llm.query in step `greet`" in waiting.stderr and len(server.requests()) == 2
    refused = spak("step", "--resume", folder.name, "--backend", "none", "--model", "x", cwd=tmp_path, env=environment())
    assert refused.returncode == 2 and "--backend none asks no model server, so --model has nothing to set" in refused.stderr

    other = serve([{"reply": "Hi from the other server"}])
    spak("step", "--resume", folder.name, "--base-url", other.openai_url, cwd=tmp_path, env=environment(), check_code=0)
    assert answered(folder)["answered_by"] == f"openai: tiny at http://127.0.0.1:{other.port}"
    assert json.loads((folder / "backend.json").read_text())["base_url"] == server.openai_url, "written once, at the start"


def test_a_fork_goes_on_with_the_backend_its_parent_remembers(tmp_path: Path, serve) -> None:
    server = serve([{"reply": "Hello!"}, {"reply": "Hello again!"}])
    spak("run", str(HELLO), "--backend", "openai", "--base-url", server.openai_url, "--model", "tiny", cwd=tmp_path,
         env=environment(), check_code=0)
    (parent,) = run_folders(tmp_path / ".spak" / "runs")
    spak("fork", parent.name, "--at", "greet", cwd=tmp_path, env=environment(), check_code=0)
    (fork,) = [folder for folder in run_folders(tmp_path / ".spak" / "runs") if folder != parent]
    assert answered(fork)["result"] == "Hello again!" and len(server.requests()) == 2
    assert (fork / "backend.json").read_text() == (parent / "backend.json").read_text()


def test_the_api_key_never_lands_in_a_run_folder(tmp_path: Path, serve) -> None:
    server = serve([{"status": 401, "error": f"Incorrect API key provided: {KEY}"}, {"reply": f"I saw {KEY}"}])
    folder, result = start_failing(tmp_path, server)
    resumed = spak("step", "--resume", folder.name, cwd=tmp_path, env=environment(), check_code=0)
    assert answered(folder)["result"] == "I saw [redacted OPENAI_API_KEY]"
    assert json.loads((folder / "backend.json").read_text())["api_key_env"] == "OPENAI_API_KEY"
    leaks = [str(path) for path in tmp_path.joinpath(".spak").rglob("*") if path.is_file() and KEY.encode() in path.read_bytes()]
    assert leaks == []
    assert KEY not in result.stderr + result.stdout + resumed.stderr + resumed.stdout


def test_a_damaged_backend_file_makes_the_run_unusable(tmp_path: Path, serve) -> None:
    server = serve([FAILING])
    folder, _ = start_failing(tmp_path, server)
    (folder / "backend.json").write_text('{"format": "spak-backend", "version": 7}\n')
    result = spak("step", "--resume", folder.name, cwd=tmp_path, env=environment())
    assert result.returncode == 4 and "backend.json is not a version 1 `spak-backend` file" in result.stderr
