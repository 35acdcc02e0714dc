"""Fixtures of the process-level fault tests: the real server as a subprocess
(``process.ServerProcess``), and where the clients keep their files."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path

import pytest

from tests.faults.process import ServerProcess, StartProcess, free_port, seed_users

MEMORY = Path("/dev/shm")
MEMORY_NEEDED = 512 * 1024 * 1024


@pytest.fixture
def client_homes(tmp_path: Path) -> Iterator[Path]:
    """Where clients keep their files: in memory when the machine offers enough of
    it, else beside the test's other files.

    For tests where the clients are not what fails: their outbox commits each reach
    the disk (three per message: queued, written, acked), and thousands of them from
    twenty clients would take most of a run without being what the run is about.
    """
    usable = MEMORY.is_dir() and os.access(MEMORY, os.W_OK)
    if usable:
        stats = os.statvfs(MEMORY)
        usable = stats.f_bavail * stats.f_frsize >= MEMORY_NEEDED
    if not usable:
        yield tmp_path / "homes"
        return
    home = Path(tempfile.mkdtemp(prefix="tchat-faults-", dir=MEMORY))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
async def server_process(tmp_path: Path) -> AsyncIterator[StartProcess]:
    """``await server_process(users=[...], **settings)``: seed, start, and at the end
    stop whatever is still running."""
    started: list[ServerProcess] = []

    async def start(users: Iterable[str] = (), **settings: object) -> ServerProcess:
        data_dir = tmp_path / f"data{len(started)}"
        await seed_users(data_dir, users)
        server = ServerProcess(data_dir, free_port(), {k: str(v) for k, v in settings.items()})
        started.append(server)
        await server.start()
        return server

    yield start
    for server in started:
        if server.proc is not None and server.proc.returncode is None:
            server.proc.kill()
            await server.proc.wait()
        await server._reap()
