#!/usr/bin/env python3
"""Benchmark of `spak mcp` (issue [mcp]): the round trip of a `respond` call, from the client
sending the answer to the result of the run's next suspension received, on a short history (5
events at the first call, growing by 7 per call) and at about 10,000 events (target: under
10 ms median).

The program asks a question per loop item. For the long history, `spak run` answers the first
1,429 questions from a file (about 10,000 events), so the run waits at the 1,430th; the short
one is started over MCP and waits at its first. Then TRIES responds are timed, each answering
one question and running to the next. Two clients: the official Python MCP SDK (`mcp` on PyPI;
its own cost included, as an agent client would pay it) and a bare JSON-RPC client writing and
reading lines on the server's pipes (the server's share).
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from replay_bench import LOOP

LONG_ITEMS = 1430


def prepare(spak, root, tries):
    """Two suspended runs under ROOT: (short id, long id) and their event counts."""
    (root / "long.spak").write_text(LOOP)
    answers = root / "answers.jsonl"
    answers.write_text("".join(f'"{i % 97 + 1}"\n' for i in range(LONG_ITEMS - 1)))
    long_run = subprocess.run([spak, "run", "long.spak", "--param", f"n={LONG_ITEMS + tries * 3}", "--answers", str(answers)],
                              cwd=root, capture_output=True, text=True)
    if long_run.returncode != 3:
        sys.exit(f"preparing the long run failed: {long_run.stdout}{long_run.stderr}")
    return long_run.stdout.split()[1]


def events(root, run):
    return sum(1 for _ in (root / ".spak" / "runs" / run / "events.jsonl").open())


async def sdk_round_trips(spak, root, run, tries):
    params = StdioServerParameters(command=spak, args=["mcp", "--root", str(root)], cwd=str(root))
    times = []
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as client:
            await client.initialize()
            if run is None:
                started = await client.call_tool("start_run", {"program": "long.spak", "params": {"n": tries * 3 + 1}})
                run = started.structured_content["run"]
            for index in range(tries):
                start = time.perf_counter()
                result = await client.call_tool("respond", {"run": run, "answer": str(index % 9 + 1)})
                times.append(time.perf_counter() - start)
                assert result.structured_content["status"] == "suspended", result
    return run, times


def raw_round_trips(spak, root, run, tries):
    server = subprocess.Popen([spak, "mcp", "--root", str(root)], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(identifier, method, params):
        server.stdin.write(json.dumps({"jsonrpc": "2.0", "id": identifier, "method": method, "params": params}) + "\n")
        server.stdin.flush()
        return json.loads(server.stdout.readline())

    call(0, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
    server.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
    times = []
    for index in range(tries):
        start = time.perf_counter()
        reply = call(index + 1, "tools/call", {"name": "respond", "arguments": {"run": run, "answer": str(index % 9 + 1)}})
        times.append(time.perf_counter() - start)
        assert reply["result"]["structuredContent"]["status"] == "suspended", reply
    server.stdin.close()
    server.wait(timeout=10)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spak", required=True)
    parser.add_argument("--tries", type=int, default=30)
    args = parser.parse_args()
    spak = str(Path(args.spak).resolve())
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent) as folder:
        root = Path(folder)
        long_run = prepare(spak, root, args.tries)
        short_run, short_sdk = anyio.run(sdk_round_trips, spak, root, None, args.tries)
        short_raw = raw_round_trips(spak, root, short_run, args.tries)
        before = events(root, long_run)
        _, long_sdk = anyio.run(sdk_round_trips, spak, root, long_run, args.tries)
        long_raw = raw_round_trips(spak, root, long_run, args.tries)
        rows = [
            (f"Python MCP SDK client, short run (at most {events(root, short_run)} events)", short_sdk),
            ("bare JSON-RPC client, short run", short_raw),
            (f"Python MCP SDK client, long run ({before} events at the first)", long_sdk),
            ("bare JSON-RPC client, long run", long_raw),
        ]
    print(f"respond round trip over stdio, {args.tries} calls each (answer sent → next suspension's result received)")
    for label, times in rows:
        ms = [t * 1000 for t in times]
        print(f"  {label:62} median {statistics.median(ms):7.2f} ms  min {min(ms):6.2f}  max {max(ms):7.2f}")


if __name__ == "__main__":
    main()
