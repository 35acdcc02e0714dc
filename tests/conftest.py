"""Fixtures: a real server on 127.0.0.1 port 0 with a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from tchat_server.app import TchatServer
from tchat_server.config import Argon2Params, ServerConfig
from tests.wire import Wire, login

PASSWORD = "correct horse battery"


def test_config(data_dir: Path, **overrides: object) -> ServerConfig:
    base = ServerConfig(
        host="127.0.0.1",
        port=0,
        data_dir=data_dir,
        argon2=Argon2Params.cheap(),
        registration="open",
        revocation_check_interval=0.2,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


class Running:
    """A started server plus helpers to make users and connect them."""

    def __init__(self, server: TchatServer) -> None:
        self.server = server
        self.wires: list[Wire] = []

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}"

    @property
    def services(self):  # type: ignore[no-untyped-def]
        assert self.server.services is not None
        return self.server.services

    async def user(self, name: str, password: str = PASSWORD, admin: bool = False) -> None:
        await self.services.accounts.create_user(name, password, admin=admin)

    async def connect(self, name: str, password: str = PASSWORD) -> Wire:
        wire = await login(self.url, name, password)
        self.wires.append(wire)
        return wire

    async def stop(self) -> None:
        for wire in self.wires:
            await wire.close()
        self.wires.clear()
        await self.server.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def start_server(data_dir: Path) -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """Start (and at teardown stop) servers on the test's data directory."""
    running: list[Running] = []

    async def start(**overrides: object) -> Running:
        server = TchatServer(test_config(data_dir, **overrides))
        await server.start()
        handle = Running(server)
        running.append(handle)
        return handle

    yield start
    for handle in running:
        await handle.stop()


@pytest.fixture
async def srv(start_server: Callable[..., Awaitable[Running]]) -> Running:
    return await start_server()
