"""`spak mcp` driven by the official Python MCP SDK (`mcp` on PyPI) over stdio: real runs,
real run folders, the hand-over between the command line and the client, and every protocol
error the server must answer without stopping."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from mcp_support import REPO_ROOT, session, spak_binary


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root holding the shipped examples and the kernel agents' lab."""
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    shutil.copytree(REPO_ROOT / "lab", tmp_path / "lab", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def events(root: Path, run: str) -> list[dict]:
    return [json.loads(line) for line in (root / ".spak" / "runs" / run / "events.jsonl").read_text().splitlines()]


def cli(root: Path, *args: str, code: int) -> subprocess.CompletedProcess:
    result = subprocess.run([str(spak_binary()), *args], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == code, f"spak {' '.join(args)} exited {result.returncode}\n{result.stdout}{result.stderr}"
    return result


def test_a_whole_run_of_hello_answered_by_the_client(root):
    async def scenario():
        async with session(root) as client:
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert names == ["check", "start_run", "status", "pending", "respond", "step", "trace", "fork", "list_runs"]
            checked = await client.call_tool("check", {"path": "examples/hello.spak"})
            assert checked.structured_content["ok"] is True
            started = await client.call_tool("start_run", {"program": "examples/hello.spak", "params": {"name": "Ada"}})
            assert started.structured_content["status"] == "suspended"
            run = started.structured_content["run"]
            pending = await client.call_tool("pending", {"run": run})
            assert pending.structured_content["prompt"] == "Write a one-line friendly greeting for Ada.\n"
            assert pending.structured_content["effect"] == "llm.query"
            done = await client.call_tool("respond", {"run": run, "answer": "Hello, Ada!"})
            assert done.structured_content["status"] == "completed"
            assert done.structured_content["metrics"] == {"greeting_length": 11}
            uris = [str(resource.uri) for resource in (await client.list_resources()).resources]
            assert f"spak://runs/{run}/trace.json" in uris and f"spak://runs/{run}/metrics.json" in uris
            metrics = await client.read_resource(f"spak://runs/{run}/metrics.json")
            assert json.loads(metrics.contents[0].text)["metrics"] == {"greeting_length": 11}
            timeline = await client.call_tool("trace", {"run": run})
            assert "greet" in timeline.content[0].text
            listed = await client.call_tool("list_runs", {})
            assert [r["id"] for r in listed.structured_content["runs"]] == [run]
            return run

    run = anyio.run(scenario)
    [answered] = [e for e in events(root, run) if e["type"] == "effect.answered" and e["effect"] == "llm.query"]
    assert answered["answered_by"].startswith("mcp: ")
    assert (root / ".spak" / "runs" / run / "workspace" / "out" / "greeting.txt").read_text() == "Hello, Ada!"
    cli(root, "replay", run, code=0)


def test_step_and_fork_through_the_client(root):
    (root / "two.spak").write_text("""task two(name: string = "Ada") {
  step prepare {
    let who = upper(name)
  }

  step greet {
    llm.query("Greet {{who}}.") -> greeting
  }

  evaluation {
    metric length = len(greeting)
  }
}
""")

    async def scenario():
        async with session(root) as client:
            paused = (await client.call_tool("start_run", {"program": "two.spak", "step": True})).structured_content
            assert paused["status"] == "paused" and paused["counters"]["steps"] == 1
            waiting = (await client.call_tool("step", {"run": paused["run"]})).structured_content
            assert waiting["status"] == "suspended" and waiting["pending"]["prompt"] == "Greet ADA."
            done = (await client.call_tool("respond", {"run": paused["run"], "answer": "Hello, ADA!"})).structured_content
            assert done["metrics"] == {"length": 11}
            forked = (await client.call_tool("fork", {"run": paused["run"], "at": "greet", "answer": "Hi!"})).structured_content
            assert forked["status"] == "completed" and forked["metrics"] == {"length": 3} and forked["run"] != paused["run"]
            listed = (await client.call_tool("list_runs", {})).structured_content["runs"]
            assert {r["id"]: r["parent"] for r in listed}[forked["run"]] == paused["run"]

    anyio.run(scenario)


def test_a_run_handed_between_the_command_line_and_the_client(root):
    started = cli(root, "run", "examples/hello.spak", code=3)
    run = started.stdout.split()[1]

    async def answer_from_client():
        async with session(root) as client:
            result = await client.call_tool("respond", {"run": run, "answer": "Hi there!"})
            assert result.structured_content["status"] == "completed"

    anyio.run(answer_from_client)
    assert "completed" in cli(root, "status", run, code=0).stdout

    async def start_from_client():
        async with session(root) as client:
            return (await client.call_tool("start_run", {"program": "examples/hello.spak"})).structured_content["run"]

    second = anyio.run(start_from_client)
    (root / ".spak" / "runs" / second / "response.txt").write_text("Good day!\n")
    assert "completed" in cli(root, "step", "--resume", second, code=0).stdout
    by = [e["answered_by"] for e in events(root, second) if e["type"] == "effect.answered" and e["effect"] == "llm.query"]
    assert by == ["response-file"]


def test_a_handed_over_run_keeps_its_workspace_only_inside_the_root(root, tmp_path_factory):
    (root / "ws").mkdir()
    inside = cli(root, "run", "examples/hello.spak", "--workspace", "ws", code=3).stdout.split()[1]
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    outside = cli(root, "run", "examples/hello.spak", "--workspace", str(elsewhere), code=3).stdout.split()[1]

    async def scenario():
        async with session(root) as client:
            done = await client.call_tool("respond", {"run": inside, "answer": "Hello!"})
            assert done.structured_content["status"] == "completed"
            with pytest.raises(MCPError) as refused:
                await client.call_tool("respond", {"run": outside, "answer": "Hello!"})
            assert refused.value.error.code == -32602 and "outside the server's root" in refused.value.error.message

    anyio.run(scenario)
    assert (root / "ws" / "out" / "greeting.txt").read_text() == "Hello!"
    assert not list(elsewhere.iterdir()), "nothing was written outside the root"


def test_the_kernel_agent_on_the_cpu_path_driven_by_the_client(root):
    """The [harness] loop: the client plays the model with lab/responder.py's kernels; the
    server is --live, so verify and bench run in the lab."""
    sys.path.insert(0, str(root / "lab"))
    import responder  # noqa: E402  (the lab's own responder, imported as the client's "model")

    async def scenario():
        async with session(root, "--live") as client:
            result = await client.call_tool("start_run", {
                "program": "examples/kernels/matmul.spak", "workspace": "lab",
                "params": {"dtype": "fp32", "sizes": "64,96", "min_speedup": 0}})
            for _ in range(6):
                content = result.structured_content
                if content["status"] != "suspended":
                    return content
                pending = content["pending"]
                request = {"effect": pending["effect"], "request": pending["request"]}
                reply = responder.answer(request, "cpu", root / "lab" / "kernels")
                result = await client.call_tool("respond", {"run": content["run"], "answer": reply})
            return result.structured_content

    final = anyio.run(scenario)
    assert final["status"] == "completed", final
    assert final["metrics"]["correct"] is True


def test_protocol_errors_are_json_rpc_errors_and_the_server_keeps_serving(root):
    async def scenario():
        async with session(root) as client:
            async def error_of(name, arguments):
                with pytest.raises(MCPError) as caught:
                    await client.call_tool(name, arguments)
                return caught.value

            unknown = await error_of("launch_missiles", {})
            assert unknown.error.code == -32602 and "unknown tool `launch_missiles`" in unknown.error.message
            missing = await error_of("respond", {"run": "x"})
            assert missing.error.code == -32602 and "`answer` is required" in missing.error.message
            wrong_type = await error_of("status", {"run": 7})
            assert "`run` must be a string" in wrong_type.error.message
            extra = await error_of("status", {"run": "x", "force": True})
            assert "unknown argument `force`" in extra.error.message
            no_run = await error_of("status", {"run": "hello-19990101-000000-0000"})
            assert no_run.error.code == -32602 and "no run hello-19990101-000000-0000" in no_run.error.message
            outside = await error_of("check", {"path": "../outside.spak"})
            assert "outside the server's root" in outside.error.message
            bad_resource = None
            with pytest.raises(MCPError) as caught:
                await client.read_resource("spak://runs/nope/trace.json")
            bad_resource = caught.value
            assert bad_resource.error.code == -32602
            # A call the server understood but cannot do is a tool error, not a protocol error.
            started = await client.call_tool("start_run", {"program": "examples/hello.spak"})
            run = started.structured_content["run"]
            stepped = await client.call_tool("step", {"run": run})
            assert stepped.is_error and "waits for an answer to llm.query" in stepped.content[0].text
            # Still serving after all of these.
            assert (await client.call_tool("list_runs", {})).structured_content["runs"][0]["id"] == run

    anyio.run(scenario)


def test_malformed_json_rpc_gets_a_parse_error_and_serving_goes_on(root):
    server = subprocess.Popen([str(spak_binary()), "mcp", "--root", str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)

    def send(text):
        server.stdin.write(text + "\n")
        server.stdin.flush()
        return json.loads(server.stdout.readline())

    try:
        init = send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}))
        assert init["result"]["serverInfo"]["name"] == "spak"
        server.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
        garbage = send("{this is not json")
        assert garbage["error"]["code"] == -32700
        unknown_method = send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "runs/destroy", "params": {}}))
        assert unknown_method["error"]["code"] == -32601
        listed = send(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}}))
        assert len(listed["result"]["tools"]) == 9
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    assert server.returncode == 0


def test_live_is_granted_by_the_server_never_by_the_client(root, tmp_path):
    program = root / "runner.spak"
    program.write_text("""task runner(binary: string = "echo") {
  system_model {
    allow tool.run "echo"
  }

  step shell {
    tool.run("{{binary}} hi") -> result
  }
}
""")

    async def scenario(binary, *extra):
        async with session(root, *extra) as client:
            return (await client.call_tool("start_run", {"program": "runner.spak", "params": {"binary": binary}})).structured_content

    # An admitted command waits for the client's answer unless the server was started --live.
    without_live = anyio.run(scenario, "echo")
    assert without_live["status"] == "suspended" and without_live["pending"]["command"] == "echo hi"
    with_live = anyio.run(scenario, "echo", "--live")
    assert with_live["status"] == "completed"
    [answered] = [e for e in events(root, with_live["run"]) if e["type"] == "effect.answered"]
    assert answered["result"]["exit_code"] == 0 and answered["result"]["stdout"]["bytes"] == len("hi\n")
    # A command no allow line admits is refused and recorded, live or not.
    refused = anyio.run(scenario, "rm", "--live")
    assert refused["status"] == "failed" and "tool.run refused `rm hi`" in refused["reason"]
    assert [e["type"] for e in events(root, refused["run"])][-2:] == ["effect.refused", "run.failed"]
