"""Helpers for `spak mcp`'s tests: the official Python MCP SDK as the client, over stdio."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Kernel"))

from conftest import REPO_ROOT, spak_binary  # noqa: E402

__all__ = ["REPO_ROOT", "session", "spak_binary"]


@asynccontextmanager
async def session(root: Path, *extra: str):
    """An initialized client session with `spak mcp --root ROOT EXTRA…`."""
    params = StdioServerParameters(command=str(spak_binary()), args=["mcp", "--root", str(root), *extra], cwd=str(root))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as client:
            await client.initialize()
            yield client
