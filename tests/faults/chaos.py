"""A hostile network between clients and the server: a TCP proxy that forwards bytes
in random pieces, late, sometimes not for a while, and ends connections in the
middle of a frame.

Each connection draws its own fate from the proxy's seeded random source: after
how many bytes it is cut (the last chunk is forwarded only in part and the stream
then ends, so the peer holds part of a WebSocket frame), how its chunks are split,
how late each piece is, and when a direction stalls. The delays here *are* the
fault under test, not a way of waiting for something.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass


@dataclass
class Fates:
    """What the proxy did, for the test's figures and for asserting that it did."""

    connections: int = 0
    cuts: int = 0
    stalls: int = 0
    stalled_seconds: float = 0.0
    pieces: int = 0
    forwarded: int = 0


@dataclass(frozen=True)
class Plan:
    """The odds each connection draws from."""

    short_share: float = 0.75
    """Share of connections cut soon; the others are cut late (every connection is cut
    in the end, but a late one lives long enough to finish a handshake and a resume)."""
    short: tuple[int, int] = (200, 16_000)
    """Bytes (both directions together) after which a short-lived connection is cut."""
    long: tuple[int, int] = (32_000, 96_000)
    """Bytes after which a long-lived connection is cut."""
    delay: float = 0.003
    """Most seconds a piece waits before it is written."""
    stall_odds: float = 0.01
    """Chance, per chunk, that its direction stalls before writing it."""
    stall: tuple[float, float] = (0.2, 1.5)
    """Seconds a stall lasts."""


class ChaosProxy:
    def __init__(self, upstream_port: int, seed: int, plan: Plan | None = None) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.plan = plan or Plan()
        self.fates = Fates()
        self.enabled = True
        """False: forward faithfully (to let clients finish once the test has seen enough)."""
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> ChaosProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self.fates.connections += 1
        short = self.rng.random() < self.plan.short_share
        budget = [self.rng.randint(*(self.plan.short if short else self.plan.long))]
        writers = (writer, up_writer)
        for w in writers:  # drain() returns once a piece is in the kernel, not before
            w.transport.set_write_buffer_limits(high=0)
        self._writers.update(writers)
        loop = asyncio.get_running_loop()
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = loop.create_task(self._pump(source, sink, budget, writers))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        budget: list[int],
        writers: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        plan, rng = self.plan, self.rng
        try:
            while chunk := await source.read(65536):
                if self.enabled and rng.random() < plan.stall_odds:
                    pause = rng.uniform(*plan.stall)
                    self.fates.stalls += 1
                    self.fates.stalled_seconds += pause
                    await asyncio.sleep(pause)
                cut = self.enabled and len(chunk) >= budget[0]
                if cut:
                    chunk = chunk[: max(1, budget[0] - 1)]  # part of it: inside a frame
                elif self.enabled:
                    budget[0] -= len(chunk)
                while chunk:
                    size = rng.randint(1, len(chunk)) if self.enabled else len(chunk)
                    piece, chunk = chunk[:size], chunk[size:]
                    if self.enabled and plan.delay:
                        await asyncio.sleep(rng.uniform(0, plan.delay))
                    sink.write(piece)
                    await sink.drain()
                    self.fates.pieces += 1
                    self.fates.forwarded += len(piece)
                if cut:
                    # The peer gets the partial frame, then the end of the stream.
                    self.fates.cuts += 1
                    for w in writers:
                        w.close()
                    return
        except (ConnectionError, OSError):
            pass
        finally:
            for w in writers:  # whichever side went away first: the other sees a reset
                if not w.is_closing():
                    w.transport.abort()
                self._writers.discard(w)
