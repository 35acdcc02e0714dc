"""Fixtures for client tests: the real ``tchat`` as a subprocess, one home per user,
and a TCP proxy between clients and the server."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tchat_client.core import Client
from tchat_client.core.auth import sign_in
from tchat_client.core.profile import Profile, ProfileStore
from tests.client.proxy import Proxy
from tests.conftest import PASSWORD, Running

REPO = Path(__file__).resolve().parents[2]
DEADLINE = 15.0
"""Seconds any one wait in these tests may take before it fails."""
COMMAND_DEADLINE = 30.0


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


class Cli:
    """The real ``tchat`` for one user, with a ``TCHAT_HOME`` of their own."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TCHAT_")}
        self.env["TCHAT_HOME"] = str(home)
        self.env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO), self.env.get("PYTHONPATH")])
        )

    @property
    def profiles(self) -> ProfileStore:
        return ProfileStore(self.home, self.home)

    async def spawn(self, *args: str, stdin: bool = False) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tchat_client",
            *args,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
            cwd=REPO,
        )

    async def run(self, *args: str, stdin: str | None = None) -> Result:
        proc = await self.spawn(*args, stdin=stdin is not None)
        data = stdin.encode() if stdin is not None else None
        try:
            async with asyncio.timeout(COMMAND_DEADLINE):
                out, err = await proc.communicate(data)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode is not None
        return Result(proc.returncode, out.decode(), err.decode())

    async def ok(self, *args: str, stdin: str | None = None) -> Result:
        result = await self.run(*args, stdin=stdin)
        assert result.code == 0, f"tchat {' '.join(args)} exited {result.code}: {result.err}"
        return result

    async def login(self, url: str, user: str, password: str = PASSWORD) -> Result:
        return await self.ok(
            "login", "--server", url, "--user", user, "--password-stdin", stdin=password + "\n"
        )


async def read_line(proc: asyncio.subprocess.Process) -> str:
    """The next line a running ``tchat`` prints (with a deadline)."""
    assert proc.stdout is not None
    async with asyncio.timeout(DEADLINE):
        line = await proc.stdout.readline()
    if not line:
        assert proc.stderr is not None
        raise AssertionError(f"tchat ended: {(await proc.stderr.read()).decode()}")
    return line.decode().rstrip("\n")


async def eventually(condition: Callable[[], Awaitable[bool]]) -> None:
    """Poll a real condition until it holds, with a deadline (for state that lives in
    another process or in the server's database, which signal nothing)."""
    async with asyncio.timeout(DEADLINE):
        while not await condition():  # noqa: ASYNC110 - polling a condition, not timing
            await asyncio.sleep(0.02)


@pytest.fixture
def cli(tmp_path: Path) -> Callable[[str], Cli]:
    """``cli("alice")``: the tchat command line in alice's own home."""
    homes: dict[str, Cli] = {}

    def make(name: str) -> Cli:
        if name not in homes:
            homes[name] = Cli(tmp_path / f"home-{name}")
        return homes[name]

    return make


@pytest.fixture
async def proxy_to() -> AsyncIterator[Callable[[Running], Awaitable[Proxy]]]:
    proxies: list[Proxy] = []

    async def make(server: Running) -> Proxy:
        proxy = await Proxy(server.server.port).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        await proxy.stop()


async def signed_in(tmp_path: Path, url: str, user: str) -> Profile:
    """A profile of ``user`` signed in to the server at ``url`` (its own home)."""
    home = tmp_path / f"home-{user}"
    return await sign_in(ProfileStore(home, home), url, user, PASSWORD)


async def settles(client: Client, check: Callable[[], bool]) -> None:
    """Wait on the client's change events until ``check()`` holds."""
    stream = client.events()
    try:
        async with asyncio.timeout(DEADLINE):
            while not check():
                await anext(stream)
    finally:
        stream.close()
