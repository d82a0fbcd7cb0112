"""The kernel harness on the CPU path: the JSON contract, the prepared kernels, every planted
cheat refused with its named reason, the responder, and the agent loops end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "lab"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(LAB))

from harness import bench as bench_module  # noqa: E402
from harness import verify as verify_module  # noqa: E402
from harness.guards import Guard  # noqa: E402
from harness.ops import OPS, Case, case_inputs  # noqa: E402


def harness(*args: str) -> tuple[int, dict | None, str]:
    """Runs `python3 -m harness ARGS --json` on the CPU; its exit code, report and stderr."""
    result = subprocess.run([sys.executable, "-m", "harness", *args, "--device", "cpu", "--json"], cwd=LAB,
                            capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, report, result.stderr


def expected_cheat(path: Path) -> str:
    return re.match(r"# expect: (\S+)", path.read_text()).group(1)


def cheats_of(report: dict) -> set[str]:
    return {report.get("cheat")} | {finding["cheat"] for finding in report.get("findings", [])}


# --- good kernels and the contract ----------------------------------------------------------

GOOD = {"matmul": "kernels/matmul/cpu/02_blocked_k_tail.py", "bmm": "kernels/bmm/cpu/02_blocked_k_tail.py",
        "fmha": "kernels/fmha/cpu/02_online_causal.py"}
BAD = {"matmul": "kernels/matmul/cpu/01_blocked_k.py", "bmm": "kernels/bmm/cpu/01_blocked_k.py",
       "fmha": "kernels/fmha/cpu/01_online_no_mask.py"}


@pytest.mark.parametrize("op", sorted(GOOD))
@pytest.mark.parametrize("dtype", ["fp32", "fp16"])
def test_the_prepared_kernels_verify(op: str, dtype: str) -> None:
    code, report, _ = harness("verify", op, GOOD[op], "--dtype", dtype)
    assert code == 0 and report["ok"], report
    assert report["device"] == "cpu" and report["dtype"] == dtype and report["op"] == op
    assert len(report["cases"]) == len(OPS[op].verify_cases("cpu", [False, True] if op == "fmha" else [False]))
    assert all(case["ok"] and case["max_abs_error"] < (1e-5 if dtype == "fp32" else 1e-2) for case in report["cases"])


@pytest.mark.parametrize("op", sorted(BAD))
def test_a_buggy_kernel_is_wrong_at_a_ragged_or_causal_case(op: str) -> None:
    code, report, _ = harness("verify", op, BAD[op], "--dtype", "fp32")
    assert code == 1 and not report["ok"] and report["cheat"] == "wrong-result"
    assert re.search(r"at \S+( causal)?, trial 1: element \(.*\) is .*, expected", report["reason"]), report["reason"]


@pytest.mark.parametrize("op,shape", [("matmul", "--sizes=48,64x32x16"), ("bmm", "--shapes=2x32x16x8"), ("fmha", "--shapes=1x2x40x64")])
def test_bench_reports_times_speedup_and_peak_on_the_cpu(op: str, shape: str) -> None:
    code, report, _ = harness("bench", op, GOOD[op], "--dtype", "fp32", shape, "--repeats", "3")
    assert code == 0 and report["ok"], report
    assert report["device"] == "cpu" and report["reference"].startswith("numpy") and report["peak_tflops"] > 0
    for result in report["results"]:
        assert result["candidate_ms"] > 0 and result["reference_ms"] > 0
        assert result["speedup"] == pytest.approx(result["reference_ms"] / result["candidate_ms"])
        assert 0 < result["peak_fraction"] < 1.1
    speedups = [r["speedup"] for r in report["results"]]
    assert report["geomean_speedup"] == pytest.approx(float(np.exp(np.mean(np.log(speedups)))))


def test_usage_errors_exit_2() -> None:
    assert harness("verify", "matmul", GOOD["matmul"], "--dtype", "bf16")[0] == 2  # no bf16 on the CPU
    assert harness("bench", "matmul", GOOD["matmul"], "--dtype", "fp32", "--sizes", "12xx")[0] == 2
    assert harness("bench", "fmha", GOOD["fmha"], "--dtype", "fp32", "--shapes", "1x1x8x32")[0] == 2
    code, report, _ = harness("verify", "matmul", "no/such/file.py", "--dtype", "fp32")
    assert code == 1 and report["cheat"] == "error" and "cannot read" in report["reason"]


# --- planted cheats -------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted((HERE / "cheats").glob("*.py")), ids=lambda p: p.stem)
def test_every_planted_cheat_is_refused_with_its_name(path: Path) -> None:
    code, report, stderr = harness("verify", "matmul", str(path), "--dtype", "fp32")
    assert code == 1 and not report["ok"], (report, stderr)
    assert expected_cheat(path) in cheats_of(report), report
    assert report["reason"]


@pytest.mark.parametrize("path", sorted((HERE / "bench_cheats").glob("*.py")), ids=lambda p: p.stem)
def test_benchmark_cheats_are_refused(path: Path) -> None:
    code, report, _ = harness("verify", "matmul", str(path), "--dtype", "fp32")
    assert code == 0, "the cheat passes verify's small shapes; the benchmark must catch it"
    code, report, _ = harness("bench", "matmul", str(path), "--dtype", "fp32", "--sizes", "256", "--repeats", "2")
    assert code == 1 and report["cheat"] == expected_cheat(path) and report["geomean_speedup"] is None, report


class FakeSandbox:
    """Stands in for the candidate's process: right outputs, and times as the test says."""

    def __init__(self, candidate_ms: float):
        self.candidate_ms = candidate_ms
        self.device, self.device_name, self.timer = "cpu", "fake", "fake"
        self.last = None

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        return None

    def ask(self, command, *arguments):
        if command == "call":
            shape, causal, seed, _ = arguments
            self.last = (Case(tuple(shape), causal), seed)
            return (None, None)
        if command == "rows":
            case, seed = self.last
            op = OPS["matmul"]
            return (list(op.reference_rows(case_inputs(op, case, seed, "fp32"), case, arguments[0])),)
        if command == "time":
            what = arguments[0]
            return ([1.0], 2.0 * 512**3) if what == "peak" else ([self.candidate_ms if what == "candidate" else 1.0], None)
        return ()


def test_an_implausible_speedup_is_measured_again_then_refused(monkeypatch) -> None:
    """A candidate timed 1000x faster than the library, twice (the reference and the peak take
    1 ms, the candidate 1 µs)."""
    monkeypatch.setattr(bench_module, "Sandbox", lambda *args: FakeSandbox(0.001))
    report = bench_module.bench(OPS["matmul"], str(LAB / GOOD["matmul"]), "cpu", "fp32",
                                OPS["matmul"].bench_cases("32", [False]), 1, 0, 60)
    assert not report["ok"] and report["cheat"] == "implausible-speedup" and report["geomean_speedup"] is None
    assert "measured again" in report["reason"] and report["results"][-1]["remeasured"]
    monkeypatch.setattr(bench_module, "Sandbox", lambda *args: FakeSandbox(0.5))
    report = bench_module.bench(OPS["matmul"], str(LAB / GOOD["matmul"]), "cpu", "fp32",
                                OPS["matmul"].bench_cases("32", [False]), 1, 0, 60)
    assert report["ok"] and report["geomean_speedup"] == pytest.approx(2.0)


# Cheats that hide from the source check (which is turned off here): the candidate's process,
# its guard and its audit hook must still catch them.
RUNTIME_CHEATS = {
    "writes nothing, and makes numpy.isnan blind in its own process": (
        "import numpy as np\nnp.isnan = lambda x, *a, **k: np.zeros(np.shape(x), dtype=bool)\n"
        "def matmul(a, b, out):\n    pass\n", {"monkey-patch", "incomplete"}),
    "walks up the frames of its caller": (
        "import sys\ndef matmul(a, b, out):\n    sys._getframe(1)\n"
        "    out[...] = (a[:, :, None].astype('float32') * b[None].astype('float32')).sum(axis=1)\n", {"dynamic-code"}),
    "calls numpy's product through the module's dictionary": (
        "import numpy as np\ndef matmul(a, b, out):\n    np.__dict__['matmul'](a, b, out=out)\n", {"reference-library"}),
    "replaces the checker's functions, which live in another process": (
        "import harness.verify as v\nv.check_case = lambda *a: {'ok': True}\ndef matmul(a, b, out):\n    pass\n",
        {"incomplete", "dynamic-code"}),
    "starts a process to do the work": (
        "import subprocess\ndef matmul(a, b, out):\n    subprocess.run(['true'])\n"
        "    out[...] = (a[:, :, None].astype('float32') * b[None].astype('float32')).sum(axis=1)\n", {"dynamic-code"}),
}


@pytest.mark.parametrize("name", sorted(RUNTIME_CHEATS))
def test_cheats_past_the_source_check_are_caught_at_run_time(name: str, tmp_path: Path, monkeypatch) -> None:
    source, expected = RUNTIME_CHEATS[name]
    candidate = tmp_path / "candidate.py"
    candidate.write_text(source)
    monkeypatch.setattr(verify_module, "scan", lambda source, dtype: [])
    report = verify_module.verify(OPS["matmul"], str(candidate), "cpu", "fp32", [False], 2, 0, 120)
    assert not report["ok"] and report["cheat"] in expected, report


def test_the_guard_sees_a_timer_replaced_and_a_thread_left_running() -> None:
    import threading
    import time

    guard = Guard("candidate.py")
    original = time.perf_counter
    stop = threading.Event()
    try:
        time.perf_counter = lambda: 0.0
        threading.Thread(target=stop.wait, daemon=True).start()
        found = guard.check()
    finally:
        time.perf_counter = original
        stop.set()
    assert ("monkey-patch", "replaced time.perf_counter") in found
    assert any(cheat == "stream-or-thread" for cheat, _ in found)


# --- the responder and the agent loops ------------------------------------------------------

def responder(request: dict, kernel_set: str = "cpu") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LAB / "responder.py"), "--set", kernel_set], input=json.dumps(request),
                          capture_output=True, text=True, timeout=30)


def test_the_responder_answers_the_next_prepared_kernel() -> None:
    kernels = sorted((LAB / "kernels" / "matmul" / "cpu").glob("*.py"))
    first = responder({"effect": "llm.query", "request": {"template": "prompts/matmul.mustache",
                                                            "prompt": "The current kernel is:\n```python\nx = 1\n```\n"}})
    assert first.returncode == 0 and kernels[0].read_text().strip() in first.stdout
    shown = f"```python\n{kernels[0].read_text()}```"
    second = responder({"effect": "llm.query", "request": {"template": "prompts/matmul.mustache", "prompt": shown}})
    assert kernels[1].read_text().strip() in second.stdout
    last = responder({"effect": "llm.query", "request": {"template": "prompts/matmul.mustache",
                                                           "prompt": f"```python\n{kernels[-1].read_text()}```"}})
    assert kernels[-1].read_text().strip() in last.stdout
    gpu = responder({"effect": "llm.query", "request": {"template": "prompts/fmha.mustache",
                                                          "prompt": f"```python\n{(LAB / 'kernels/fmha/baseline.py').read_text()}```"}}, "gpu")
    assert (LAB / "kernels/fmha/improved.py").read_text().strip() in gpu.stdout
    refused = responder({"effect": "tool.run", "request": {"argv": ["ls"]}})
    assert refused.returncode == 1 and "llm.query only" in refused.stderr


@pytest.mark.parametrize("op,sizes", [("matmul", "sizes=64,96"), ("bmm", "shapes=2x32x32x32"), ("fmha", "shapes=1x2x48x64")])
def test_each_agent_loop_completes_on_the_cpu_path(op: str, sizes: str, tmp_path: Path) -> None:
    """spak runs the kernel agent with --live: the responder proposes the buggy kernel, verify
    refuses it, the retry proposes the fixed one, verify and bench accept it."""
    import shutil

    workspace = tmp_path / "workspace"
    shutil.copytree(LAB, workspace, ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    spak = os.environ.get("SPAK_BIN", str(REPO / ".build" / "debug" / "spak"))
    spak = spak if os.path.isabs(spak) else str(REPO / spak)
    result = subprocess.run([spak, "run", f"examples/kernels/{op}.spak", "--live", "--workspace", str(workspace),
                             "--runs-dir", str(tmp_path / "runs"), "--responder", f"{sys.executable} lab/responder.py --set cpu",
                             "--param", "dtype=fp32", "--param", sizes, "--param", "min_speedup=0", "--param", "attempts=3"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["metrics"]["correct"] is True
    assert metrics["metrics"]["device"] == "cpu" and metrics["counters"]["llm_calls"] == 2
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    verifies = [e for e in events if e["type"] == "var.bound" and e["name"] == "verify"]
    assert [v["value"]["ok"] for v in verifies] == [False, True]
    assert verifies[0]["value"]["cheat"] == "wrong-result"
    assert (run / "trace.json").is_file()
