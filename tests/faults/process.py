"""The real ``tchat-server`` as a subprocess that tests kill, restart, starve of disk
space or put a hostile network in front of, and what it stored.

The server listens on a fixed port chosen once per test, so that a restarted
process is where the clients left it; its settings come through ``TCHAT_*``
variables, its log goes to a file next to the data directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from tchat_server.app import open_services
from tchat_server.config import Argon2Params, ServerConfig
from tests.faults.clients import DEADLINE, PASSWORD, Row

__all__ = [
    "BASE_SETTINGS",
    "REPO",
    "ServerProcess",
    "StartProcess",
    "Stopwatch",
    "free_port",
    "seed_users",
    "server_log",
]

REPO = Path(__file__).resolve().parents[2]

BASE_SETTINGS: dict[str, str] = {
    "argon2_time_cost": "1",
    "argon2_memory_kib": "1024",
    "argon2_parallelism": "1",
    "rate_per_second": "100000",
    "rate_burst": "100000",
    "login_attempts_per_address": "10000",
    "revocation_check_interval": "1",
    "shutdown_grace": "5",
}
"""Cheap hashing and no per-connection rate limit: these tests post far faster
than a person types, from one address."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``python -m tchat_server serve`` on one data directory and one port, which can
    be started again after it was killed."""

    def __init__(self, data_dir: Path, port: int, settings: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = port
        self.settings = {**BASE_SETTINGS, **settings}
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0
        self.log_path = data_dir.parent / "server.log"
        self._drain: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TCHAT_")}
        env.update({f"TCHAT_{key.upper()}": value for key, value in self.settings.items()})
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    async def start(self) -> None:
        """Start the process and return once it listens."""
        assert self.proc is None or self.proc.returncode is not None, "already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tchat_server",
            "--data-dir",
            str(self.data_dir),
            "serve",
            "--port",
            str(self.port),
            env=self.env(),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        listening = asyncio.get_running_loop().create_future()
        self._drain = asyncio.get_running_loop().create_task(self._keep_log(listening))
        async with asyncio.timeout(DEADLINE):
            if not await listening:
                raise AssertionError(f"the server exited before listening: {self.log()}")

    async def _keep_log(self, listening: asyncio.Future[bool]) -> None:
        """Append the process's output (stdout and stderr: the banner and the log, in
        either format) to ``log_path``; resolve ``listening`` once it listens."""
        assert self.proc is not None and self.proc.stdout is not None
        pattern = re.compile(rf"listening on ws://127\.0\.0\.1:{self.port}\b".encode())
        try:
            while line := await self.proc.stdout.readline():
                with self.log_path.open("ab") as log:
                    log.write(line)
                if not listening.done() and pattern.search(line):
                    listening.set_result(True)
        finally:
            if not listening.done():
                listening.set_result(False)

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(self.proc.wait(), DEADLINE) == -signal.SIGKILL
        self.kills += 1
        await self._reap()

    async def stop(self) -> int:
        """SIGTERM, and the exit code."""
        if self.proc is None:
            return 0
        if self.proc.returncode is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), DEADLINE)
        await self._reap()
        return code

    async def _reap(self) -> None:
        """Wait until everything the process wrote is in the log file."""
        if self._drain is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._drain, DEADLINE)
            self._drain = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Query the database read-only (beside a live server, or after it)."""
        uri = f"{(self.data_dir / 'tchat.db').resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
            return [tuple(row) for row in db.execute(sql, tuple(params)).fetchall()]


async def seed_users(data_dir: Path, names: Iterable[str]) -> None:
    """Create accounts directly in the database, before any server runs."""
    config = ServerConfig(data_dir=data_dir, argon2=Argon2Params.cheap())
    services = await open_services(config)
    try:
        await asyncio.gather(*(services.accounts.create_user(n, PASSWORD) for n in names))
    finally:
        await services.close()


StartProcess = Callable[..., Awaitable[ServerProcess]]
"""The ``server_process`` fixture: seed users, start a server, stop it at the end."""


def server_log(server: ServerProcess, room: int) -> list[Row]:
    """A room as the server's database holds it, in seq order."""
    rows = server.read(
        "SELECT m.seq, u.name, m.body, m.client_msg_id FROM messages m "
        "JOIN users u ON u.id = m.author_id WHERE m.room_id = ? ORDER BY m.seq",
        (room,),
    )
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
