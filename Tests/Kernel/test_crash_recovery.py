"""kill -9 at random points: the resumed run's trace must equal an uninterrupted run's."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

from conftest import FIXTURES, normalized_events, run_folders, spak, spak_binary, stable_counters

PROGRAM = FIXTURES / "counter.spak"
ITEMS = 30
TRIALS = 30


def write_answers(path: Path) -> None:
    # Item 7's first answer breaks the invariant, so the runs include a retry with feedback.
    answers = []
    for item in range(1, ITEMS + 1):
        if item == 7:
            answers.append('"0"')
        answers.append(f'"{item}"')
    path.write_text("\n".join(answers) + "\n")


def uninterrupted(tmp: Path, answers: Path) -> Path:
    runs = tmp / "baseline"
    spak("run", str(PROGRAM), "--param", f"n={ITEMS}", "--answers", str(answers), "--runs-dir", str(runs),
         cwd=tmp, check_code=0)
    (folder,) = run_folders(runs)
    return folder


def test_kill_at_random_points_then_resume_gives_the_same_trace(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    write_answers(answers)
    baseline = uninterrupted(tmp_path, answers)
    expected_events = normalized_events(baseline)
    expected_counters = stable_counters(baseline)
    expected_files = sorted(p.name for p in (baseline / "workspace" / "out").iterdir())

    (tmp_path / "timing").mkdir()
    start = time.perf_counter()
    uninterrupted(tmp_path / "timing", answers)
    duration = time.perf_counter() - start

    rng = random.Random(int(os.environ.get("SPAK_CRASH_SEED", "20261125")))
    kills = 0
    for trial in range(TRIALS):
        runs = tmp_path / f"trial-{trial}"
        for attempt in range(12):
            folders = run_folders(runs)
            if folders:
                command = ["step", "--resume", str(folders[0]), "--answers", str(answers), "--runs-dir", str(runs)]
            else:
                shutil.rmtree(runs, ignore_errors=True)
                command = ["run", str(PROGRAM), "--param", f"n={ITEMS}", "--answers", str(answers), "--runs-dir", str(runs)]
            process = subprocess.Popen([str(spak_binary()), *command], cwd=tmp_path,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if attempt < 3:
                time.sleep(rng.uniform(0, duration * 1.1))
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    kills += 1
            out, err = process.communicate(timeout=120)
            if process.returncode == 0:
                break
            assert process.returncode in (-signal.SIGKILL, 4), f"trial {trial}: exit {process.returncode}\n{out}\n{err}"
            if process.returncode == 4:
                assert "already completed" in err, err
                break
        else:
            raise AssertionError(f"trial {trial} did not finish")
        (folder,) = run_folders(runs)
        assert normalized_events(folder) == expected_events, f"trial {trial}: traces differ"
        assert stable_counters(folder) == expected_counters, f"trial {trial}: metrics differ"
        assert sorted(p.name for p in (folder / "workspace" / "out").iterdir()) == expected_files
        # The recovered record replays exactly, and its snapshots (cut back with the log) fork.
        spak("replay", str(folder), cwd=tmp_path, check_code=0)
        at = f"save#{trial % (ITEMS - 1) + 1}"  # the last save would end the run: no wait
        spak("fork", str(folder), "--at", at, "--runs-dir", str(tmp_path / f"forks-{trial}"), cwd=tmp_path, check_code=3)
    assert kills >= TRIALS // 2, f"only {kills} kills landed; the kill window is too late"
