"""python3 -m harness verify|bench OP CANDIDATE [options] [--json]"""

from __future__ import annotations

import argparse
import json
import sys

from .backends import UsageError
from .bench import bench
from .ops import OPS
from .verify import verify


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m harness", description=(
        "Check (verify) or time (bench) a candidate kernel for matmul, bmm or fmha. Exit codes: 0 accepted, "
        "1 refused or wrong (the report says why), 2 usage."))
    parser.add_argument("command", choices=["verify", "bench"])
    parser.add_argument("op", choices=sorted(OPS))
    parser.add_argument("candidate", help="the candidate's Python file")
    parser.add_argument("--dtype", default="bf16", choices=["fp32", "fp16", "bf16"])
    parser.add_argument("--device", default="auto", help="auto (CUDA when PyTorch sees one, else the CPU), cpu or cuda")
    parser.add_argument("--causal", default="both", choices=["both", "true", "false"], help="fmha masks")
    parser.add_argument("--sizes", help="matmul: square sizes N (or MxKxN), comma-separated")
    parser.add_argument("--shapes", help="bmm: BxMxKxN; fmha: BxHxSxD; comma-separated")
    parser.add_argument("--trials", type=int, default=2, help="verify: fresh inputs per shape (at least 2)")
    parser.add_argument("--repeats", type=int, default=10, help="bench: timed calls per measurement")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=900, help="seconds one step of the candidate's process may take")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    op = OPS[args.op]
    causal = {"both": [False, True], "true": [True], "false": [False]}[args.causal]
    try:
        if args.trials < 2 or args.repeats < 1:
            raise UsageError("--trials must be at least 2 and --repeats at least 1")
        if args.device not in ("auto", "cpu", "cuda"):
            raise UsageError(f"--device {args.device}: not auto, cpu or cuda")
        if args.command == "verify":
            report = verify(op, args.candidate, args.device, args.dtype, causal, args.trials, args.seed, args.timeout)
        else:
            default = {"matmul": "256,512", "bmm": "4x128x128x128", "fmha": "1x4x256x64"}[op.name]
            text = (args.sizes if op.name == "matmul" else args.shapes) or default
            try:
                cases = op.bench_cases(text, causal)
            except ValueError as error:
                raise UsageError(str(error)) from None
            report = bench(op, args.candidate, args.device, args.dtype, cases, args.repeats, args.seed, args.timeout)
    except UsageError as error:
        print(f"harness: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        print(summary(report))
    return 0 if report["ok"] else 1


def summary(report: dict) -> str:
    head = f"{report['command']} {report['op']} {report['candidate']} on {report['device']} ({report.get('device_name', '?')}), {report['dtype']}: "
    if not report["ok"]:
        return head + f"REFUSED [{report['cheat']}] {report['reason']}"
    if report["command"] == "verify":
        lines = [head + "ok"]
        lines += [f"  {case['case']}: max abs error {case['max_abs_error']:.3g}" for case in report["cases"]]
        return "\n".join(lines)
    lines = [head + f"geomean speedup {report['geomean_speedup']:.3f}× over {report['reference']} (peak {report['peak_tflops']:.2f} TFLOP/s)"]
    for result in report["results"]:
        lines.append(f"  {result['case']}: {result['candidate_ms']:.3f} ms vs {result['reference_ms']:.3f} ms, "
                     f"{result['speedup']:.3f}×, {result['tflops']:.3f} TFLOP/s ({result['peak_fraction']:.1%} of peak)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
