#!/usr/bin/env python3
"""Benchmarks of time travel (issue [replay]), as whole `spak` processes:

1. Replay: `spak replay RUN` of a run of about 10,000 events (target: under 100 ms), and of a
   run of about 10 events, beside the start-up of the binary alone (`spak --version`).
2. Fork latency: `spak fork RUN --at ask#N`, from the command's start to the new run's first
   request written (it suspends there), at about 10 and about 10,000 events of history
   (target: flat, under 10 ms). Each fork is a new run folder; they are removed between tries.
   Beside it, what any new run costs to reach its first request: `spak run` of the same
   program (the fork's floor: a run folder made durable, then one suspension written).

Medians of several tries; the run folders live in a temporary folder on the same disk as the
repository (its file system decides the cost of the fork's fsyncs).
"""
import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from kernel_bench import run, timed

LOOP = """task long(n: int = 10) {
  repeat i in 1...n {
    step ask {
      llm.query("Score item {{i}}") -> reply
      let score = int(reply)
    }
  }
  evaluation {
    metric last = score
  }
}
"""
EVENTS_PER_ITEM = 7  # var.bound i, step.started, requested, answered, var.bound reply, score, step.finished


def record(spak, work, items):
    """A completed run of `items` questions; returns its id and its number of events."""
    program = work / "long.spak"
    program.write_text(LOOP)
    answers = work / f"answers-{items}.jsonl"
    answers.write_text("".join(f'"{i % 97 + 1}"\n' for i in range(items)))
    result = run([spak, "run", str(program), "--param", f"n={items}", "--answers", str(answers),
                  "--runs-dir", str(work / "runs")], cwd=work)
    if result.returncode != 0:
        sys.exit(f"recording failed: {result.stdout}{result.stderr}")
    run_id = result.stdout.split()[1]
    events = sum(1 for _ in open(work / "runs" / run_id / "events.jsonl"))
    return run_id, events


def replay_time(spak, work, run_id, tries):
    times = []
    for _ in range(tries):
        elapsed, result = timed([spak, "replay", run_id, "--runs-dir", str(work / "runs")], cwd=work)
        if result.returncode != 0:
            sys.exit(f"replay failed: {result.stdout}{result.stderr}")
        times.append(elapsed)
    return statistics.median(times)


def fork_time(spak, work, run_id, at, tries):
    times = []
    runs = work / "runs"
    for _ in range(tries):
        before = set(p.name for p in runs.iterdir())
        elapsed, result = timed([spak, "fork", run_id, "--at", at, "--runs-dir", str(runs)], cwd=work)
        if result.returncode != 3:
            sys.exit(f"fork failed ({result.returncode}): {result.stdout}{result.stderr}")
        times.append(elapsed)
        for name in set(p.name for p in runs.iterdir()) - before:
            shutil.rmtree(runs / name)
    return statistics.median(times)


def new_run_time(spak, work, tries):
    times = []
    runs = work / "fresh"
    for _ in range(tries):
        elapsed, result = timed([spak, "run", str(work / "long.spak"), "--runs-dir", str(runs)], cwd=work)
        if result.returncode != 3:
            sys.exit(f"run failed ({result.returncode}): {result.stdout}{result.stderr}")
        times.append(elapsed)
        shutil.rmtree(runs)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spak", required=True)
    parser.add_argument("--tries", type=int, default=15)
    args = parser.parse_args()
    spak = str(Path(args.spak).resolve())
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(dir=root / ".build") as folder:
        work = Path(folder)
        startup = statistics.median(timed([spak, "--version"])[0] for _ in range(args.tries))
        small_id, small_events = record(spak, work, 2)
        large_items = 10_000 // EVENTS_PER_ITEM + 1
        large_id, large_events = record(spak, work, large_items)
        results = {
            "startup_ms": startup * 1000,
            "new_run_ms": new_run_time(spak, work, args.tries) * 1000,
            "replay_small": {"events": small_events, "ms": replay_time(spak, work, small_id, args.tries) * 1000},
            "replay_large": {"events": large_events, "ms": replay_time(spak, work, large_id, args.tries) * 1000},
            "fork_small": {"history_events": small_events, "at": "ask#2",
                           "ms": fork_time(spak, work, small_id, "ask#2", args.tries) * 1000},
            "fork_large_middle": {"history_events": large_events, "at": f"ask#{large_items // 2}",
                                  "ms": fork_time(spak, work, large_id, f"ask#{large_items // 2}", args.tries) * 1000},
            "fork_large_last": {"history_events": large_events, "at": f"ask#{large_items}",
                                "ms": fork_time(spak, work, large_id, f"ask#{large_items}", args.tries) * 1000},
        }
    print(f"binary start-up (spak --version):        {results['startup_ms']:7.2f} ms")
    print(f"new run to its first request (spak run): {results['new_run_ms']:7.2f} ms   (the fork's floor)")
    for key in ("replay_small", "replay_large"):
        entry = results[key]
        print(f"replay, {entry['events']:6d} events:                {entry['ms']:7.2f} ms   (target < 100 ms)")
    for key in ("fork_small", "fork_large_middle", "fork_large_last"):
        entry = results[key]
        print(f"fork at {entry['at']:<9} of {entry['history_events']:6d} events:    {entry['ms']:7.2f} ms   (target < 10 ms, flat)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
