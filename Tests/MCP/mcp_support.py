"""Helpers for `spak mcp`'s tests: the official Python MCP SDK as the client, over stdio."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

REPO_ROOT = Path(__file__).resolve().parents[2]


def spak_binary() -> Path:
    configured = os.environ.get("SPAK_BIN")
    path = Path(configured) if configured else REPO_ROOT / ".build" / "debug" / "spak"
    path = path if path.is_absolute() else REPO_ROOT / path
    if not path.is_file():
        pytest.fail(f"spak binary not found at {path}; run `swift build` first", pytrace=False)
    return path


@asynccontextmanager
async def session(root: Path, *extra: str):
    """An initialized client session with `spak mcp --root ROOT EXTRA…`."""
    params = StdioServerParameters(command=str(spak_binary()), args=["mcp", "--root", str(root), *extra], cwd=str(root))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as client:
            await client.initialize()
            yield client
