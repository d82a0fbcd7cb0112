"""The model backends against a scripted HTTP server on 127.0.0.1: real `spak` processes,
real requests, real faults. Each fault recovers or ends with a message naming the server and
the cause, the run left resumable, and the record intact."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest

from backend_support import HELLO, KEY, REPO_ROOT, ScriptedServer, events, record_files, run_folders, spak, spak_binary
from backend_support import serve  # noqa: F401 (a fixture)


def environment(backend: str = "openai", **extra: str) -> dict[str, str]:
    """This process's environment without backend settings, with the backend's API key."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SPAK_", "OPENAI_", "OLLAMA_"))}
    return {**env, f"{backend.upper()}_API_KEY": KEY, **extra}


def run(tmp: Path, server: ScriptedServer | str, *extra: str, backend: str = "openai", program: Path = HELLO,
        code: int | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    url = server if isinstance(server, str) else (server.openai_url if backend == "openai" else server.ollama_url)
    return spak("run", str(program), "--backend", backend, "--base-url", url, "--model", "tiny",
                "--runs-dir", str(tmp / "runs"), "--retry-delay", "0.05", *extra,
                cwd=tmp, env=env or environment(backend), check_code=code)


def only_run(tmp: Path) -> Path:
    (folder,) = run_folders(tmp / "runs")
    return folder


def program(tmp: Path, text: str) -> Path:
    path = tmp / "program.spak"
    path.write_text(text)
    return path


def of_type(folder: Path, kind: str) -> list[dict]:
    return [event for event in events(folder) if event["type"] == kind]


def assert_key_never_recorded(folder: Path, *outputs: str) -> None:
    for name, content in record_files(folder).items():
        assert KEY.encode() not in content, f"the API key reached {name}"
    for output in outputs:
        assert KEY not in output


def assert_valid_record(folder: Path) -> None:
    for name in ("trace", "metrics"):
        schema = json.loads((REPO_ROOT / "docs" / "schema" / f"{name}.schema.json").read_text())
        jsonschema.validate(json.loads((folder / f"{name}.json").read_text()), schema)


@pytest.mark.parametrize("backend", ["openai", "ollama"])
@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_a_query_goes_to_the_server_and_everything_is_recorded(tmp_path: Path, serve, backend: str, stream: str) -> None:
    server = serve([{"reply": "Hello, world!"}])
    result = run(tmp_path, server, stream, backend=backend, code=0)
    folder = only_run(tmp_path)
    (request,) = server.requests()
    assert request["path"] == ("/v1/chat/completions" if backend == "openai" else "/api/chat")
    body = request["body"]
    assert body["model"] == "tiny" and body["stream"] == (stream == "--stream")
    assert "Write a one-line friendly greeting for world." in body["messages"][0]["content"]
    sampling = body if backend == "openai" else body["options"]
    assert sampling["temperature"] == 0 and sampling["seed"] == 0, "deterministic by default"
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"

    (attempt,) = of_type(folder, "effect.attempt")
    assert attempt["outcome"] == "ok" and attempt["attempt"] == 1 and attempt["index"] == 0
    (answered,) = [e for e in of_type(folder, "effect.answered") if e["effect"] == "llm.query"]
    assert answered["result"] == "Hello, world!"
    assert answered["answered_by"] == f"{backend}: tiny at http://127.0.0.1:{server.port}"
    assert answered["usage"] == {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13, "estimated": False}
    execution = answered["execution"]
    assert execution["backend"] == backend and execution["model"] == "tiny" and execution["attempts"] == 1
    assert execution["streamed"] == (stream == "--stream") and execution["finish_reason"] == "stop"
    assert execution["latency_ms"] >= execution["first_byte_ms"] > 0 and "messages" not in execution["sent"]

    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["counters"]["tokens"] == 13 and metrics["counters"]["tokens_estimated"] is False
    (call,) = metrics["llm"]["calls"]
    assert call["step"] == "greet" and call["prompt_tokens"] == 11 and call["completion_tokens"] == 2
    assert call["latency_ms"] > 0 and call["attempts"] == 1 and call["backend"] == backend
    assert (folder / "workspace" / "out" / "greeting.txt").read_text() == "Hello, world!"
    assert_valid_record(folder)
    assert_key_never_recorded(folder, result.stdout, result.stderr)


def test_a_429_with_retry_after_is_waited_out_then_answered(tmp_path: Path, serve) -> None:
    server = serve([{"status": 429, "error": "slow down", "headers": {"Retry-After": "1"}}, {"reply": "Hi!"}])
    start = time.perf_counter()
    run(tmp_path, server, code=0)
    assert time.perf_counter() - start >= 1.0, "Retry-After: 1 must be honoured"
    folder = only_run(tmp_path)
    first, second = of_type(folder, "effect.attempt")
    assert first["outcome"] == "http 429" and first["status"] == 429 and first["retry_after_s"] == 1
    assert first["retry_in_ms"] == 1000 and "slow down" in first["error"]
    assert second["outcome"] == "ok" and second["attempt"] == 2
    assert len(server.requests()) == 2
    assert_valid_record(folder)


def test_a_500_then_a_reply(tmp_path: Path, serve) -> None:
    server = serve([{"status": 500, "error": "boom"}, {"reply": "Hi!"}])
    run(tmp_path, server, code=0)
    folder = only_run(tmp_path)
    assert [a["outcome"] for a in of_type(folder, "effect.attempt")] == ["http 500", "ok"]
    assert 25 <= of_type(folder, "effect.attempt")[0]["retry_in_ms"] <= 50, "the backoff is 0.05 s with jitter in [0.5, 1)"
    (answered,) = [e for e in of_type(folder, "effect.answered") if e["effect"] == "llm.query"]
    assert answered["execution"]["attempts"] == 2


def test_a_reply_slower_than_the_first_byte_timeout_leaves_the_run_resumable(tmp_path: Path, serve) -> None:
    slow = serve([{"delay": 5, "reply": "too late"}])
    result = run(tmp_path, slow, "--first-byte-timeout", "0.5", "--max-attempts", "2", code=6)
    assert (f"no reply from the openai server at http://127.0.0.1:{slow.port} (model tiny): no reply within 0.5 s "
            "(first-byte timeout) (2 attempts; the most --max-attempts allows)") in result.stderr
    assert "the run stays suspended at this request" in result.stderr
    folder = only_run(tmp_path)
    assert json.loads((folder / "state.json").read_text())["status"]["name"] == "suspended"
    assert (folder / "pending" / "prompt.md").is_file()
    assert [a["outcome"] for a in of_type(folder, "effect.attempt")] == ["first-byte timeout", "first-byte timeout"]
    (unanswered,) = of_type(folder, "effect.unanswered")
    assert "first-byte timeout" in unanswered["reason"] and unanswered["index"] == 0

    fast = serve([{"reply": "Hello again"}])
    resumed = spak("step", "--resume", folder.name, "--runs-dir", str(tmp_path / "runs"), "--backend", "openai",
                   "--base-url", fast.openai_url, "--model", "tiny", cwd=tmp_path, env=environment(), check_code=0)
    assert "completed" in resumed.stdout
    assert [a["outcome"] for a in of_type(folder, "effect.attempt")] == ["first-byte timeout", "first-byte timeout", "ok"]
    assert json.loads((folder / "trace.json").read_text())["run"]["status"] == "completed"
    assert_valid_record(folder)


def test_a_reply_slower_than_the_total_timeout(tmp_path: Path, serve) -> None:
    server = serve([{"reply": "one two three four five six", "chunk_delay": 0.4}])
    result = run(tmp_path, server, "--stream", "--request-timeout", "1", "--max-attempts", "1", code=6)
    assert "the reply was not complete within 1 s (timeout) (1 attempt; the most --max-attempts allows)" in result.stderr
    assert [a["outcome"] for a in of_type(only_run(tmp_path), "effect.attempt")] == ["timeout"]


def test_malformed_json_is_reported_and_not_retried(tmp_path: Path, serve) -> None:
    server = serve([{"body": "{\"choices\": [{\"message\": "}])
    result = run(tmp_path, server, code=6)
    assert "the reply is not JSON" in result.stderr and "not retried: asking again would not help" in result.stderr
    assert len(server.requests()) == 1
    folder = only_run(tmp_path)
    assert [a["outcome"] for a in of_type(folder, "effect.attempt")] == ["malformed"]


@pytest.mark.parametrize("backend", ["openai", "ollama"])
@pytest.mark.parametrize("cut, message", [
    ("cut_after", "the server closed the connection before the reply was complete"),
    ("end_after", "the reply stream ended before the server said it was complete (7 bytes of text received)"),
])
def test_a_stream_cut_in_the_middle_is_recorded_as_cut_and_asked_again(tmp_path: Path, serve, backend: str, cut: str,
                                                                        message: str) -> None:
    server = serve([{"reply": "one two three", cut: 2}, {"reply": "one two three"}])
    run(tmp_path, server, "--stream", backend=backend, code=0)
    folder = only_run(tmp_path)
    first, second = of_type(folder, "effect.attempt")
    assert first["outcome"] == "cut" and first["error"] == message and second["outcome"] == "ok"
    (answered,) = [e for e in of_type(folder, "effect.answered") if e["effect"] == "llm.query"]
    assert answered["result"] == "one two three"


def test_a_stream_always_cut_gives_up_with_the_cause(tmp_path: Path, serve) -> None:
    server = serve([{"reply": "one two three", "cut_after": 2}])
    result = run(tmp_path, server, "--stream", "--max-attempts", "2", code=6)
    assert "closed the connection before the reply was complete" in result.stderr or "ended before" in result.stderr
    assert len(server.requests()) == 2


def test_connection_refused(tmp_path: Path, serve) -> None:
    server = serve([])
    url = server.openai_url
    server.stop()
    result = run(tmp_path, url, "--max-attempts", "3", code=6)
    assert f"no reply from the openai server at http://127.0.0.1:{server.port}" in result.stderr
    assert "connection refused" in result.stderr and "3 attempts" in result.stderr
    folder = only_run(tmp_path)
    assert [a["outcome"] for a in of_type(folder, "effect.attempt")] == ["unreachable"] * 3
    assert json.loads((folder / "state.json").read_text())["status"]["name"] == "suspended"


def test_retry_after_longer_than_the_longest_wait_gives_up_at_once(tmp_path: Path, serve) -> None:
    server = serve([{"status": 503, "headers": {"Retry-After": "120"}}])
    result = run(tmp_path, server, code=6)
    assert "the server asked to retry after 120 s, longer than the longest wait, 60 s" in result.stderr
    assert len(server.requests()) == 1


BIG = 'task big() {\n  step s { llm.query("Long, please.") -> r }\n  evaluation { metric size = len(r) }\n}\n'


@pytest.mark.parametrize("backend", ["openai", "ollama"])
@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_a_10_mib_reply_is_recorded_whole_streamed_or_not(tmp_path: Path, serve, backend: str, stream: str) -> None:
    # Streamed in events of 4 KiB of text and 24 KiB of other fields, the reply takes 70 MiB on
    # the wire, over the 64 MiB cap: only its text counts.
    server = serve([{"reply_bytes": 10 << 20, "chunk_bytes": 4096, "event_padding": 24 << 10}])
    run(tmp_path, server, stream, backend=backend, program=program(tmp_path, BIG), code=0)
    folder = only_run(tmp_path)
    assert json.loads((folder / "metrics.json").read_text())["metrics"]["size"] == 10 << 20
    (bound,) = [e for e in of_type(folder, "var.bound") if e["name"] == "r"]
    assert bound["value"] == "x" * (10 << 20)
    assert_valid_record(folder)


@pytest.mark.parametrize("backend", ["openai", "ollama"])
@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_a_reply_one_byte_over_64_mib_is_refused_streamed_or_not(tmp_path: Path, serve, backend: str, stream: str) -> None:
    server = serve([{"reply_bytes": (64 << 20) + 1}])
    result = run(tmp_path, server, stream, backend=backend, program=program(tmp_path, BIG), code=6)
    assert "the reply is larger than 64 MiB (1 attempt; not retried: asking again would not help)" in result.stderr
    assert [a["outcome"] for a in of_type(only_run(tmp_path), "effect.attempt")] == ["too large"]


def test_a_client_error_is_not_retried_and_the_key_is_never_recorded(tmp_path: Path, serve) -> None:
    server = serve([{"status": 401, "error": f"Incorrect API key provided: {KEY}"}])
    result = run(tmp_path, server, code=6)
    assert "HTTP 401 Unauthorized: Incorrect API key provided: [redacted OPENAI_API_KEY]" in result.stderr
    assert len(server.requests()) == 1
    assert_key_never_recorded(only_run(tmp_path), result.stdout, result.stderr)


STRUCTURED = """task rate() {
  step score {
    llm.query("Rate the weather from 1 to 10. {{feedback}}",
      schema: {type: "object", required: ["score"], properties: {score: {type: "integer", maximum: 10}}}) -> rating as json
    on_fail retry score max 2
  }
  evaluation { metric score = rating.score }
}
"""


@pytest.mark.parametrize("backend", ["openai", "ollama"])
def test_structured_output_is_asked_for_and_checked_on_receipt(tmp_path: Path, serve, backend: str) -> None:
    server = serve([{"reply": '{"score": 11}'}, {"reply": '{"score": 7}'}])
    run(tmp_path, server, backend=backend, program=program(tmp_path, STRUCTURED), code=0)
    folder = only_run(tmp_path)
    assert json.loads((folder / "metrics.json").read_text())["metrics"]["score"] == 7
    schema = {"type": "object", "required": ["score"], "properties": {"score": {"type": "integer", "maximum": 10}}}
    first = server.requests()[0]["body"]
    if backend == "openai":
        assert first["response_format"] == {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
    else:
        assert first["format"] == schema
    (retry,) = of_type(folder, "retry")
    assert retry["feedback"] == "the reply to llm.query does not match its `schema:`: $.score: expected at most 10, found 11"
    assert "expected at most 10" in server.requests()[1]["body"]["messages"][-1]["content"]


def test_the_token_budget_counts_the_servers_tokens(tmp_path: Path, serve) -> None:
    server = serve([{"reply": "ok"}])
    three = program(tmp_path, 'task t() {\n  system_model { budget llm.tokens <= 30 }\n'
                              '  repeat i in 1...3 { step ask { llm.query("Question {{i}}") -> r } }\n}\n')
    result = run(tmp_path, server, program=three, code=1)
    assert "budget `llm.tokens <= 30` exceeded (used: 36)" in result.stdout
    assert len(server.requests()) == 3


def test_query_options_reach_the_server(tmp_path: Path, serve) -> None:
    text = ('task t() {\n  step s {\n    llm.query("Hi", system: "Be brief.", model: "other", temperature: 0.5, seed: 3,\n'
            '      max_tokens: 9, stop: ["\\n"], timeout: 30s) -> r\n  }\n}\n')
    for backend in ("openai", "ollama"):
        server = serve([{"reply": "ok"}])
        run(tmp_path, server, backend=backend, program=program(tmp_path, text), code=0)
        body = server.requests()[0]["body"]
        assert body["model"] == "other" and body["messages"][0] == {"role": "system", "content": "Be brief."}
        if backend == "openai":
            assert (body["temperature"], body["seed"], body["max_tokens"], body["stop"]) == (0.5, 3, 9, ["\n"])
        else:
            assert body["options"] == {"temperature": 0.5, "seed": 3, "num_predict": 9, "stop": ["\n"]}


def test_settings_come_from_flags_then_environment_then_the_config_file(tmp_path: Path, serve) -> None:
    server = serve([{"reply": "ok"}])
    runs = str(tmp_path / "runs")
    from_env = environment(SPAK_BACKEND="openai", SPAK_BASE_URL=server.openai_url, SPAK_MODEL="env-model")
    spak("run", str(HELLO), "--runs-dir", runs, cwd=tmp_path, env=from_env, check_code=0)
    (tmp_path / ".spak").mkdir()
    (tmp_path / ".spak" / "backend.json").write_text(json.dumps(
        {"backend": "ollama", "base_url": server.ollama_url, "model": "file-model", "max_attempts": 2}))
    spak("run", str(HELLO), "--runs-dir", runs, cwd=tmp_path, env=environment(), check_code=0)
    spak("run", str(HELLO), "--runs-dir", runs, "--model", "flag-model", cwd=tmp_path, env=from_env, check_code=0)
    assert [(r["path"], r["body"]["model"]) for r in server.requests()] == [
        ("/v1/chat/completions", "env-model"), ("/api/chat", "file-model"), ("/v1/chat/completions", "flag-model")]


@pytest.mark.parametrize("config, args, message", [
    ({"backend": "openai", "api_key": "sk-x"}, [], "an API key is never read from a file"),
    ({"backend": "openai", "model": "m", "retries": 2}, [], "unknown setting `retries`"),
    ({}, ["--backend", "claude"], "unknown backend `claude` (choose one of: ollama, openai, none)"),
    ({}, ["--backend", "openai", "--base-url", "localhost:8080"], "is not an http:// or https:// URL"),
    ({}, ["--backend", "openai", "--max-attempts", "0"], "max attempts must be between 1 and 100"),
])
def test_bad_settings_are_refused_before_anything_runs(tmp_path: Path, config: dict, args: list[str], message: str) -> None:
    if config:
        (tmp_path / ".spak").mkdir()
        (tmp_path / ".spak" / "backend.json").write_text(json.dumps(config))
    result = spak("run", str(HELLO), "--runs-dir", str(tmp_path / "runs"), *args, cwd=tmp_path, env=environment())
    assert result.returncode == 2 and message in result.stderr
    assert run_folders(tmp_path / "runs") == []


def test_a_missing_model_leaves_the_run_waiting(tmp_path: Path, serve) -> None:
    server = serve([{"reply": "ok"}])
    result = spak("run", str(HELLO), "--backend", "openai", "--base-url", server.openai_url,
                  "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, env=environment())
    assert result.returncode == 6 and "needs a model: pass --model NAME" in result.stderr
    assert server.requests() == []


def test_a_run_started_without_a_backend_is_finished_by_one(tmp_path: Path, serve) -> None:
    server = serve([{"reply": "Hello from the server"}])
    spak("run", str(HELLO), "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, env=environment(), check_code=3)
    folder = only_run(tmp_path)
    spak("step", "--resume", folder.name, "--runs-dir", str(tmp_path / "runs"), "--backend", "ollama",
         "--base-url", server.ollama_url, "--model", "tiny", cwd=tmp_path, env=environment(), check_code=0)
    (answered,) = [e for e in of_type(folder, "effect.answered") if e["effect"] == "llm.query"]
    assert answered["answered_by"].startswith("ollama: tiny at ") and answered["result"] == "Hello from the server"


def test_tokens_are_shown_as_they_come_in_a_terminal(tmp_path: Path, serve) -> None:
    server = serve([{"reply": "Hello there, streaming world", "chunk_delay": 0.05}])
    main, terminal = pty.openpty()
    process = subprocess.Popen([str(spak_binary()), "run", str(HELLO), "--backend", "openai", "--base-url", server.openai_url,
                                "--model", "tiny", "--runs-dir", str(tmp_path / "runs")],
                               cwd=tmp_path, env=environment(), stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        ready, _, _ = select.select([main], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    process.wait(timeout=30)
    os.close(main)
    assert process.returncode == 0
    assert b"Hello there, streaming world" in shown
    assert server.requests()[0]["body"]["stream"] is True, "a terminal streams by default"


def test_a_server_that_refuses_json_schema_is_asked_with_json_object(tmp_path: Path, serve) -> None:
    server = serve([{"status": 422, "error": "response_format.type: Input should be 'text' or 'json_object', got 'json_schema'"},
                    {"reply": '{"score": 7}'}, {"reply": '{"score": 3}'}])
    structured = program(tmp_path, STRUCTURED.replace("step score {", "repeat i in 1...2 {\n  step score {", 1)
                         .replace("on_fail retry score max 2\n  }", "on_fail retry score max 2\n  }\n  }", 1))
    run(tmp_path, server, program=structured, code=0)
    formats = [r["body"]["response_format"]["type"] for r in server.requests()]
    assert formats == ["json_schema", "json_object", "json_object"], "the fallback is remembered for later queries"
    assert server.requests()[1]["body"]["response_format"]["schema"]["required"] == ["score"]
    first, second = of_type(only_run(tmp_path), "effect.attempt")[:2]
    assert first["outcome"] == "http 422" and "json_object" in first["fallback"] and second["outcome"] == "ok"


def test_an_explicit_answers_file_wins_over_a_backend_from_the_environment(tmp_path: Path, serve) -> None:
    server = serve([{"reply": "from the server"}])
    env = environment(SPAK_BACKEND="openai", SPAK_BASE_URL=server.openai_url, SPAK_MODEL="tiny")
    spak("run", str(HELLO), "--answers", str(REPO_ROOT / "examples" / "hello.answers.jsonl"),
         "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path, env=env, check_code=0)
    assert server.requests() == []
    (answered,) = [e for e in of_type(only_run(tmp_path), "effect.answered") if e["effect"] == "llm.query"]
    assert answered["answered_by"].startswith("answers: ")


@pytest.mark.parametrize("option, message", [
    ("timeout: 0s", "llm.query's `timeout:` must be a positive duration"),
    ("max_tokens: 0", "llm.query's `max_tokens:` must be at least 1, not 0"),
    ("temperature: -0.5", "llm.query's `temperature:` must be 0 or more, not -0.5"),
])
def test_query_options_that_make_no_sense_fail_the_run_at_their_line(tmp_path: Path, serve, option: str,
                                                                     message: str) -> None:
    server = serve([{"reply": "ok"}])
    bad = program(tmp_path, f'task t() {{\n  step s {{\n    llm.query("Hi", {option}) -> r\n  }}\n}}\n')
    result = run(tmp_path, server, program=bad, code=1)
    assert "program.spak:3:" in result.stdout and message in result.stdout
    assert server.requests() == []
