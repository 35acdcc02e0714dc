"""A TCP proxy for tests: forwards, withholds or cuts the bytes between a client
and the server, so that tests can fail the network exactly where they mean to.

``hold_after(marker)`` forwards server -> client bytes up to and including the
chunk that contains ``marker`` and withholds everything after it (the client
never hears the answer; with ``upstream=True`` the server never hears the
client either). ``cut()`` aborts every live connection at once. ``retarget``
points new connections at another server (a restarted one).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class _Link:
    def __init__(self, proxy: Proxy, client: asyncio.StreamWriter, server: asyncio.StreamWriter):
        self.proxy = proxy
        self.client = client
        self.server = server
        self.holding = False

    def abort(self) -> None:
        for writer in (self.client, self.server):
            writer.transport.abort()


class Proxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.marker: bytes | None = None
        self.hold_upstream = False
        self.held_down = 0
        """Server -> client bytes withheld so far."""
        self.held_up = 0
        """Client -> server bytes withheld so far."""
        self.accepted = 0
        self.links: list[_Link] = []
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    def retarget(self, port: int) -> None:
        self.upstream_port = port

    def hold_after(self, marker: bytes | None, *, upstream: bool = False) -> None:
        """Withhold what follows ``marker`` on new and live connections (None: stop)."""
        self.marker = marker
        self.hold_upstream = upstream

    def cut(self) -> None:
        """Abort every live connection (both sides see a reset)."""
        for link in self.links:
            link.abort()
        self.links.clear()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        """Until ``condition`` holds (it is checked whenever bytes are withheld)."""
        async with asyncio.timeout(15.0), self._changed:
            await self._changed.wait_for(condition)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        link = _Link(self, writer, up_writer)
        self.links.append(link)
        self.accepted += 1
        await self._notify()
        loop = asyncio.get_running_loop()
        for coro in (
            self._pump(link, reader, up_writer, False),
            self._pump(link, up_reader, writer, True),
        ):
            task = loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, down: bool
    ) -> None:
        tail = b""
        try:
            while chunk := await reader.read(65536):
                if down:
                    if link.holding:
                        self.held_down += len(chunk)
                        await self._notify()
                        continue
                    if self.marker is not None and self.marker in tail + chunk:
                        link.holding = True
                    tail = chunk[-256:]
                elif link.holding and self.hold_upstream:
                    self.held_up += len(chunk)
                    await self._notify()
                    continue
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            link.abort()
            if link in self.links:
                self.links.remove(link)
