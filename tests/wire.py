"""A minimal protocol client for tests: real WebSocket, frames decoded by the codec."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from shared.codec import decode_server_batch, encode
from shared.frames import PROTOCOL_VERSION, Hello, Login, Register, ServerFrame, Welcome

T = TypeVar("T")

_rids = itertools.count(1)


def next_rid() -> str:
    return f"r{next(_rids)}"


class Wire:
    """One connection; every server frame is collected in order for ``expect``."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[ServerFrame] = []
        self.batches: list[int] = []
        """How many frames each WebSocket message carried (more than 1: batched)."""
        self._cursor = 0
        self._changed = asyncio.Condition()
        self.closed: ConnectionClosed | None = None
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self.welcome: Welcome | None = None

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> Wire:
        ws = await connect(url, compression=None, max_size=None, **kwargs)
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                batch = decode_server_batch(raw)  # one frame, or a batch of them
                async with self._changed:
                    self.frames.extend(batch)
                    self.batches.append(len(batch))
                    self._changed.notify_all()
        except ConnectionClosed as exc:
            self.closed = exc
        finally:
            async with self._changed:
                if self.closed is None:
                    # A normal close (1000/1001) ends the iteration without raising;
                    # a cancelled reader leaves the connection open.
                    done = self.ws.protocol.state is State.CLOSED
                    self.closed = (
                        self.ws.protocol.close_exc if done else ConnectionClosed(None, None)
                    )
                self._changed.notify_all()

    async def send(self, frame: msgspec.Struct) -> None:
        await self.ws.send(encode(frame).decode())

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def expect(
        self,
        kind: type[T],
        where: Callable[[T], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> T:
        """The next frame of ``kind`` (matching ``where``) after the last one taken."""

        def find() -> T | None:
            for index in range(self._cursor, len(self.frames)):
                frame = self.frames[index]
                if isinstance(frame, kind) and (where is None or where(frame)):
                    self._cursor = index + 1
                    return frame
            return None

        async with asyncio.timeout(timeout), self._changed:
            while True:
                found = find()
                if found is not None:
                    return found
                if self.closed is not None:
                    raise AssertionError(
                        f"connection closed waiting for {kind.__name__}: {self.closed}"
                    )
                await self._changed.wait()

    async def find(
        self,
        kind: type[T],
        where: Callable[[T], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> T:
        """The first frame of ``kind`` (matching ``where``) received so far or next,
        wherever it is; unlike ``expect`` it neither uses nor moves the cursor."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for frame in self.frames:
                    if isinstance(frame, kind) and (where is None or where(frame)):
                        return frame
                if self.closed is not None:
                    raise AssertionError(
                        f"connection closed waiting for {kind.__name__}: {self.closed}"
                    )
                await self._changed.wait()

    def seen(self, kind: type[T]) -> list[T]:
        return [f for f in self.frames if isinstance(f, kind)]

    async def wait_closed(self, timeout: float = 10.0) -> ConnectionClosed:  # noqa: ASYNC109
        async with asyncio.timeout(timeout), self._changed:
            while self.closed is None:
                await self._changed.wait()
        return self.closed

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        with contextlib.suppress(BaseException):
            await self._reader


async def login(url: str, name: str, password: str) -> Wire:
    wire = await Wire.open(url)
    await wire.send(Login(protocol=PROTOCOL_VERSION, username=name, password=password))
    wire.welcome = await wire.expect(Welcome)
    return wire


async def hello(url: str, token: str, **fields: Any) -> Wire:
    wire = await Wire.open(url)
    await wire.send(Hello(protocol=PROTOCOL_VERSION, token=token, **fields))
    wire.welcome = await wire.expect(Welcome)
    return wire


async def register(url: str, name: str, password: str, invite: str | None = None) -> Wire:
    wire = await Wire.open(url)
    await wire.send(
        Register(protocol=PROTOCOL_VERSION, username=name, password=password, invite=invite)
    )
    return wire
