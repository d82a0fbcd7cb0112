"""Helpers for the backend tests: a scripted model server started per test, and `spak` runs
against it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "Kernel"))

from conftest import REPO_ROOT, run_folders, spak, spak_binary  # noqa: E402

__all__ = ["REPO_ROOT", "ScriptedServer", "run_folders", "spak", "spak_binary", "record_files", "events", "HELLO"]

HELLO = REPO_ROOT / "examples" / "hello.spak"
KEY = "sk-test-DO-NOT-RECORD-4242"


class ScriptedServer:
    """`scripted_server.py` on 127.0.0.1, playing a list of behaviours (see its docstring)."""

    def __init__(self, folder: Path, behaviours: list[dict]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        script = folder / "script.json"
        script.write_text(json.dumps(behaviours))
        self.log = folder / "requests.jsonl"
        self.process = subprocess.Popen([sys.executable, str(HERE / "scripted_server.py"), str(script), str(self.log)],
                                        stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def ollama_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def record_files(folder: Path) -> dict[str, bytes]:
    """Every file of a run folder, by its path inside it."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def events(folder: Path) -> list[dict]:
    """The run's events, from the durable log (whether or not the run has ended)."""
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


@pytest.fixture
def serve(tmp_path: Path):
    """Starts scripted servers for one test and stops them after it."""
    servers: list[ScriptedServer] = []

    def start(behaviours: list[dict]) -> ScriptedServer:
        server = ScriptedServer(tmp_path / f"server-{len(servers)}", behaviours)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
