#!/usr/bin/env python3
"""Benchmark of live tools (issue [tools]): the time `tool.run` adds to spawning a command.

For each command, spak runs a loop of steps that each make one `tool.run` call (`--live`,
durable record on: the output stored in tools/, the result logged and fsynced, the snapshot
replaced), at two loop lengths; the slope is the time per call, so process start-up cancels.
The floor is the same command spawned directly, its output read to the end, N times, by a
small C program (bench/spawn_baseline.c) in this same bench run. A trivial step costs a few
microseconds more (see `make bench-kernel`); it is included in spak's figure, not subtracted.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

LOOP = """task calls(n: int = 10) {{
  system_model {{
    allow tool.run "{first}"
  }}
  repeat i in 1...n {{
    step call {{ tool.run("{command}") -> r }}
  }}
}}
"""


def spak_seconds(spak, work, command, calls, durable_dir):
    program = work / "loop.spak"
    program.write_text(LOOP.format(first=command.split()[0], command=command))
    runs = durable_dir / f"runs-{calls}"
    start = time.perf_counter()
    result = subprocess.run([spak, "run", str(program), "--live", "--param", f"n={calls}", "--runs-dir", str(runs)],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout + result.stderr
    shutil.rmtree(runs)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spak", default=".build-static/release/spak")
    parser.add_argument("--calls", type=int, default=2000, help="calls in the long loop (the short one has 1/10)")
    parser.add_argument("--repeats", type=int, default=5, help="medians over this many runs of each loop")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent
    spak = str(Path(args.spak).resolve())
    print(f"machine: {os.cpu_count()} cores; spak: {args.spak}; runs folder on the repository's disk")

    with tempfile.TemporaryDirectory(dir=root) as scratch:
        work = Path(scratch)
        baseline = work / "spawn_baseline"
        subprocess.run(["cc", "-O2", "-o", str(baseline), str(root / "spawn_baseline.c")], check=True)
        print("\ntool.run per-call time (median of", args.repeats, "runs; slope between", args.calls // 10, "and",
              args.calls, "calls)")
        for command in ("/bin/true", "/bin/echo hello"):
            short, long = args.calls // 10, args.calls
            t_short = statistics.median(spak_seconds(spak, work, command, short, work) for _ in range(args.repeats))
            t_long = statistics.median(spak_seconds(spak, work, command, long, work) for _ in range(args.repeats))
            per_call = (t_long - t_short) / (long - short)
            raw = statistics.median(
                float(subprocess.run([str(baseline), str(long), *command.split()], capture_output=True, text=True,
                                     check=True).stdout) for _ in range(args.repeats))
            print(f"   {command:<16} spak {per_call * 1e6:8.1f} µs   direct spawn {raw * 1e6:8.1f} µs   "
                  f"added {(per_call - raw) * 1e6:8.1f} µs ({per_call / raw:4.2f}x)   target: under 1000 µs added")


if __name__ == "__main__":
    main()
