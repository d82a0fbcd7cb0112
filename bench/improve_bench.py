#!/usr/bin/env python3
"""Benchmark of the outer loop (issue [improve]): `spak improve` on the shipped demonstration
(examples/improve: primes.spak, its task set of 4 tasks × 2 repeats, and model.py, the
stand-in model that needs to be shown its mistake).

For each try, from report.json: the whole search's wall time, the trials (evaluations) it
used and the improvements it found (rounds won), so trials per improvement; and where the
time went: in trials (of which waiting for the model.py processes, the rest the kernel
recording runs) and the improver's own work (analysis, rewriting, printing, checking, selection,
writing the report) = the whole minus the trials.

The responder is started with this Python's own executable (`sys.executable`), not through
`python3` on PATH, so that a version manager's shim does not add its start-up to every answer.
"""
import argparse
import json
import statistics
import tempfile
import sys
from pathlib import Path

from kernel_bench import timed

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "improve"


def one_try(spak, work, index):
    tasks = json.loads((DEMO / "tasks.json").read_text())
    for task in tasks["tasks"]:
        task["responder"] = f"{sys.executable} {DEMO / 'model.py'}"
    task_file = work / "tasks.json"
    task_file.write_text(json.dumps(tasks))
    out = work / f"out-{index}"
    seconds, result = timed([spak, "improve", str(DEMO / "primes.spak"), "--tasks", str(task_file), "--out", str(out)], cwd=work)
    if result.returncode != 0:
        sys.exit(f"spak improve exited {result.returncode}:\n{result.stdout}{result.stderr}")
    report = json.loads((out / "report.json").read_text())
    cost = report["cost"]
    return {
        "process_s": seconds,
        "search_s": cost["seconds"],
        "trial_s": cost["trial_seconds"],
        "answer_s": cost["answer_seconds"],
        "improver_s": cost["improver_seconds"],
        "trials": report["budget"]["spent"],
        "improvements": sum(1 for r in report["rounds"] if r["winner"]),
        "candidates": len(report["candidates"]),
        "result": report["result"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spak", required=True)
    parser.add_argument("--tries", type=int, default=3)
    args = parser.parse_args()
    spak = str(Path(args.spak).resolve())
    with tempfile.TemporaryDirectory(dir=REPO / "bench") as folder:
        tries = [one_try(spak, Path(folder), index) for index in range(args.tries)]
    first = tries[0]
    print(f"spak improve examples/improve/primes.spak, {args.tries} tries: {first['result']}")
    print(f"  candidates {first['candidates']}, trials {first['trials']}, improvements {first['improvements']}, "
          f"trials per improvement {first['trials'] / max(1, first['improvements']):.1f}")
    print(f"  {'':32} {'median':>9} {'min':>9} {'max':>9}")

    def row(label, key, scale=1.0, unit="s"):
        values = [t[key] * scale for t in tries]
        print(f"  {label:32} {statistics.median(values):8.3f}{unit} {min(values):8.3f}{unit} {max(values):8.3f}{unit}")

    row("whole process", "process_s")
    row("search (report.json)", "search_s")
    row("  in trials", "trial_s")
    row("    waiting for model.py", "answer_s")
    row("  improver's own work", "improver_s")
    per_trial = [t["trial_s"] / t["trials"] * 1000 for t in tries]
    print(f"  {'mean trial':32} {statistics.median(per_trial):7.1f}ms")
    overhead = [t["improver_s"] / t["trial_s"] * 100 for t in tries]
    print(f"  improver overhead over the evaluations: {statistics.median(overhead):.2f}% (median)")


if __name__ == "__main__":
    main()
