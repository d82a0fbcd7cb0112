#!/usr/bin/env python3
"""Benchmark of the model backends (issue [backends]): what a backend call costs over a raw
HTTP request to the same local server, and what a retry cycle costs.

spak runs a loop of steps that each make one `llm.query` through `--backend openai`, with the
durable record on (each answer logged and fsynced, the snapshot replaced), at two loop
lengths; the slope is the time per call, so process start-up cancels. The floor is a small C
program (bench/http_baseline.c) that sends the very body spak sent, over one kept-alive
connection, and reads each reply to its end, in this same bench run, against the same server:

- a canned server (Tests/Backends/scripted_server.py, no request log), where the server's own
  time is small and spak's overhead shows most;
- with --runs-dir on tmpfs, to show how much of that overhead is the fsyncs of the record;
- a real model (SmolLM2-135M through llama-cpp-python, when .venv-llm exists), where the
  model's time dominates (the two are measured in turns, as the model's time drifts).

A retry cycle is a 500 answered by a retry that succeeds, with --retry-delay 0: its cost is
the per-call time of that loop minus the plain loop's. (The backoff wait itself is a setting,
1 s by default with jitter, and is not spak's overhead.)
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOP = """task calls(n: int = 10) {{
  repeat i in 1...n {{
    step ask {{ llm.query("Say hello in three words."{options}) -> reply }}
  }}
}}
"""


class Server:
    """A server process that prints its port on its first line (or is given one)."""

    def __init__(self, command: list[str], port: int | None = None, ready: str | None = None) -> None:
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = port if port is not None else int(self.process.stdout.readline())
        if ready:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{self.port}{ready}", timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"the server on port {self.port} did not start")
                    time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def scripted(work: Path, script: object, log: Path | None = None) -> Server:
    path = work / f"script-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(script))
    arguments = [sys.executable, str(ROOT / "Tests" / "Backends" / "scripted_server.py"), str(path)]
    return Server(arguments + ([str(log)] if log else []))


def spak_seconds(spak: str, program: Path, port: int | None, calls: int, runs: Path, *extra: str) -> float:
    """One run of the loop: through the backend on `port`, or (no port) answered by `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPAK_", "OPENAI_", "OLLAMA_"))}
    backend = ["--backend", "openai", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "tiny", "--no-stream"]
    start = time.perf_counter()
    result = subprocess.run([spak, "run", str(program), "--param", f"n={calls}", "--runs-dir", str(runs),
                             *(backend if port else []), *extra], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout + result.stderr
    shutil.rmtree(runs)
    return seconds


def per_call(spak: str, program: Path, port: int | None, calls: int, repeats: int, runs_parent: Path, *extra: str) -> float:
    short = calls // 10
    t_short = statistics.median(spak_seconds(spak, program, port, short, runs_parent / "runs", *extra) for _ in range(repeats))
    t_long = statistics.median(spak_seconds(spak, program, port, calls, runs_parent / "runs", *extra) for _ in range(repeats))
    return (t_long - t_short) / (calls - short)


def raw_per_call(baseline: Path, port: int, body: Path, calls: int, repeats: int) -> float:
    return statistics.median(
        float(subprocess.run([str(baseline), str(port), "/v1/chat/completions", str(body), str(calls)],
                             capture_output=True, text=True, check=True).stdout) for _ in range(repeats))


def sent_body(spak: str, work: Path, program: Path) -> Path:
    """The body spak sends for the loop's query, captured by a logging server."""
    log = work / f"requests-{program.stem}.jsonl"
    server = scripted(work, [{"reply": "Hello there, friend"}], log=log)
    try:
        spak_seconds(spak, program, server.port, 1, work / "capture")
    finally:
        server.stop()
    (line,) = log.read_text().splitlines()
    body = json.loads(line)["body"]
    path = work / f"body-{program.stem}.json"
    path.write_text(json.dumps(body))
    return path


def row(name: str, spak: float, raw: float) -> str:
    return (f"   {name:<34} spak {spak * 1e6:9.1f} µs   raw HTTP {raw * 1e6:9.1f} µs   "
            f"added {(spak - raw) * 1e6:8.1f} µs   ratio {spak / raw:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spak", default=".build-static/release/spak")
    parser.add_argument("--calls", type=int, default=1000, help="calls in the long loop (the short one has 1/10)")
    parser.add_argument("--model-calls", type=int, default=40, help="calls in the long loop against the real model")
    parser.add_argument("--repeats", type=int, default=5, help="medians over this many runs of each loop")
    args = parser.parse_args()
    spak = str(Path(args.spak).resolve())
    print(f"machine: {os.cpu_count()} cores; spak: {args.spak}; medians of {args.repeats} runs; "
          f"per call = slope between {args.calls // 10} and {args.calls} calls")

    with tempfile.TemporaryDirectory(dir=ROOT / "bench") as scratch, tempfile.TemporaryDirectory(dir="/dev/shm") as shm:
        work = Path(scratch)
        baseline = work / "http_baseline"
        subprocess.run(["cc", "-O2", "-o", str(baseline), str(ROOT / "bench" / "http_baseline.c")], check=True)
        plain = work / "plain.spak"
        plain.write_text(LOOP.format(options=""))
        body = sent_body(spak, work, plain)

        print("\nbackend call against a raw HTTP request to the same canned server (OpenAI API, whole replies)")
        canned = scripted(work, {"cycle": [{"reply": "Hello there, friend"}]})
        try:
            raw = raw_per_call(baseline, canned.port, body, args.calls, args.repeats)
            disk = per_call(spak, plain, canned.port, args.calls, args.repeats, work)
            print(row("runs folder on disk (ext4)", disk, raw))
            memory = per_call(spak, plain, canned.port, args.calls, args.repeats, Path(shm))
            print(row("runs folder on tmpfs (no fsync cost)", memory, raw))
        finally:
            canned.stop()

        answers = work / "answers.jsonl"
        answers.write_text("".join(json.dumps("Hello there, friend") + "\n" for _ in range(args.calls)))
        print("\nthe same loop answered from an --answers file, no HTTP (what the record costs per llm.query)")
        for name, parent in (("runs folder on disk (ext4)", work), ("runs folder on tmpfs", Path(shm))):
            recorded = per_call(spak, plain, None, args.calls, args.repeats, parent, "--answers", str(answers))
            print(f"   {name:<34} {recorded * 1e6:9.1f} µs per call")

        print("\nretry cycle: each call answered 500, then 200 on the retry (--retry-delay 0)")
        flaky = scripted(work, {"cycle": [{"status": 500, "error": "scripted"}, {"reply": "Hello there, friend"}]})
        try:
            retried = per_call(spak, plain, flaky.port, args.calls, args.repeats, work, "--retry-delay", "0")
            print(f"   per call with one retry {retried * 1e6:9.1f} µs   without {disk * 1e6:9.1f} µs   "
                  f"a retry cycle costs {(retried - disk) * 1e6:8.1f} µs (raw HTTP round trip: {raw * 1e6:.1f} µs)")
        finally:
            flaky.stop()

        python = ROOT / ".venv-llm" / "bin" / "python"
        if not python.exists():
            print("\nreal model: skipped (.venv-llm is missing; `make test` or `make local-llm` installs it)")
            return
        model = subprocess.run([str(python), str(ROOT / "Tests" / "Backends" / "smollm2_path.py")], capture_output=True,
                               text=True, check=True).stdout.strip()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        short_program = work / "short.spak"
        short_program.write_text(LOOP.format(options=", max_tokens: 8"))
        short_body = sent_body(spak, work, short_program)
        print(f"\nreal model (SmolLM2-135M-Instruct Q4_1, llama-cpp-python 0.3.36, max_tokens 8), "
              f"slope between {args.model_calls // 10} and {args.model_calls} calls")
        server = Server([str(python), "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1", "--port",
                         str(port), "--n_ctx", "2048", "--verbose", "False"], port=port, ready="/v1/models")
        try:
            # The model's own time varies from run to run: the two are measured in turns.
            raw_parts, spak_parts = [], []
            for _ in range(args.repeats):
                raw_parts.append(raw_per_call(baseline, port, short_body, args.model_calls, 1))
                spak_parts.append(per_call(spak, short_program, port, args.model_calls, 1, work))
            print(row("runs folder on disk (ext4)", statistics.median(spak_parts), statistics.median(raw_parts)))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
