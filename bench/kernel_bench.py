#!/usr/bin/env python3
"""Benchmarks of the step machine (issue [kernel]), as whole `spak` processes:

1. Resume latency: `spak step --resume` as a fresh process, from reading the answer to the next
   suspension written, with 1 and with about 10,000 events of history (median of several).
2. Step overhead: per-step time of a loop of trivial steps with the durable record on (the
   slope between two loop lengths, so process start-up cancels), against LangGraph with
   SqliteSaver running the same loop in this same bench run.
3. Memory: peak RSS of runs of 1,000 and 100,000 steps (the trace streams to disk).
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ASK_LOOP = """task ask_loop(n: int = 10) {
  repeat i in 1...n {
    step ask { llm.query("question {{i}}") -> reply }
  }
}
"""

TRIVIAL_LOOP = """task trivial(n: int = 10) {
  repeat i in 1...n {
    step s { let x = i + 1 }
  }
}
"""


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def timed(command, **kwargs):
    start = time.perf_counter()
    result = run(command, **kwargs)
    return time.perf_counter() - start, result


def peak_rss_kib(command):
    """Peak RSS of one child process, in KiB (from wait4's rusage)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit(f"{' '.join(command)} failed with status {status}")
    return usage.ru_maxrss


def resume_latency(spak, work, history_answers, runs):
    """Median seconds of `spak step --resume` that answers one request and writes the next."""
    program = work / "ask.spak"
    program.write_text(ASK_LOOP)
    answers = work / f"answers-{history_answers}.jsonl"
    answers.write_text("".join(f'"answer {k}"\n' for k in range(history_answers)))
    runs_dir = work / f"runs-{history_answers}"
    result = run([spak, "run", str(program), "--param", f"n={history_answers + runs + 5}", "--answers", str(answers),
                  "--runs-dir", str(runs_dir)])
    assert result.returncode == 3, result.stdout + result.stderr
    (folder,) = [p for p in runs_dir.iterdir() if not p.name.startswith(".")]
    events = sum(1 for _ in open(folder / "events.jsonl"))
    response = work / "response.txt"
    response.write_text("an answer")
    samples = []
    for _ in range(runs):
        seconds, result = timed([spak, "step", "--resume", str(folder), "--response", str(response)])
        assert result.returncode == 3, result.stdout + result.stderr
        samples.append(seconds)
    return events, samples


def spak_step_time(spak, work, steps):
    program = work / "trivial.spak"
    program.write_text(TRIVIAL_LOOP)
    runs_dir = work / f"trivial-{steps}"
    seconds, result = timed([spak, "run", str(program), "--param", f"n={steps}", "--runs-dir", str(runs_dir)])
    assert result.returncode == 0, result.stdout + result.stderr
    shutil.rmtree(runs_dir)
    return seconds


def langgraph_python(root):
    venv = root / ".venv-bench"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r",
                        str(root / "bench" / "requirements-langgraph.txt")], check=True)
    return python


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spak", default=".build-static/release/spak")
    parser.add_argument("--runs", type=int, default=21, help="samples per resume figure (median reported)")
    parser.add_argument("--no-langgraph", action="store_true", help="skip the LangGraph comparison")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    spak = str(Path(args.spak).resolve())
    print(f"machine: {os.cpu_count()} cores; spak: {args.spak}")

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        print("\n1. resume latency (spak step --resume, fresh process: answer in, next suspension written)")
        for history in (0, 1667):  # about 10,000 events of history (6 per answered request)
            events, samples = resume_latency(spak, work, history, args.runs)
            print(f"   {events:>6} events of history: median {statistics.median(samples) * 1000:6.2f} ms, "
                  f"min {min(samples) * 1000:6.2f}, max {max(samples) * 1000:6.2f} (n={len(samples)})")

        print("\n2. step overhead (trivial steps, durable record on; slope between two loop lengths)")
        small, large = 1_000, 100_000
        t_small = statistics.median(spak_step_time(spak, work, small) for _ in range(3))
        t_large = statistics.median(spak_step_time(spak, work, large) for _ in range(3))
        spak_step = (t_large - t_small) / (large - small)
        print(f"   spak:      {spak_step * 1e6:8.2f} µs per step  ({small:,} steps {t_small * 1000:.1f} ms, "
              f"{large:,} steps {t_large * 1000:.1f} ms, whole processes)")
        if not args.no_langgraph:
            python = langgraph_python(root)
            lg_steps = 2_000
            samples = []
            for _ in range(3):
                result = run([str(python), str(root / "bench" / "langgraph_loop.py"), str(lg_steps)])
                assert result.returncode == 0, result.stderr
                samples.append(float(result.stdout.strip()))
            lg_step = statistics.median(samples) / lg_steps
            print(f"   LangGraph: {lg_step * 1e6:8.2f} µs per step  (SqliteSaver, {lg_steps:,} steps in-process, import excluded)")
            print(f"   ratio:     {lg_step / spak_step:8.1f}x less time per step in spak (target: at least 50x)")

        print("\n3. peak memory (RSS of the whole spak process)")
        program = work / "trivial.spak"
        for steps in (1_000, 100_000):
            rss = peak_rss_kib([spak, "run", str(program), "--param", f"n={steps}", "--runs-dir", str(work / f"rss-{steps}")])
            print(f"   {steps:>7,} steps: {rss / 1024:7.1f} MiB")


if __name__ == "__main__":
    main()
