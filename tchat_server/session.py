"""One authenticated connection as the server's rules see it: who, and a bounded
outbound queue written to its socket.

No websockets here: the transport hands in ``send`` and ``close`` callables (and,
for the fast path, ``write`` and an ``Outbox``). Fan-out only appends to the queue
(never awaits), so a slow client cannot stall anyone; one that falls ``max_queue``
frames behind is closed and resumes on reconnect.

The fast path: a push marks the session in the shared ``Outbox``, and once per
loop iteration one callback writes every marked session's queue with the
synchronous ``write`` (as websockets' ``broadcast()`` does). A fan-out to 1,000
members is then one scheduled callback and 1,000 socket writes, not 1,000 task
wake-ups each running ``await ws.send()`` (~3x the CPU per frame, measured). A
task (``_drain``) exists only while the socket pushes back (its buffer is over the
high-water mark) or a flushing close is under way: an idle session has none.
Without ``write`` (the unit tests of batching), ``run_sender`` is the sender task.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from itertools import islice
from typing import Any

from shared.errors import CloseCode

__all__ = ["Joined", "Outbox", "Session"]

log = logging.getLogger("tchat.server")

SendFn = Callable[[bytes], Coroutine[Any, Any, None]]
CloseFn = Callable[[int, str], Coroutine[Any, Any, None]]
WriteFn = Callable[[bytes], bool]
"""Write a frame now, without waiting; False (and nothing written) when the socket
cannot take it now (its buffer is full, or it is closing)."""


class Joined(bytes):
    """Several encoded frames joined with commas, queued as one item: written as a
    JSON array (a batch), alone or inside a larger one. Built once and queued to
    many sessions, it costs each of them one push, not one per frame; it still
    counts as ``frames`` frames against the lag limit."""

    frames: int

    @classmethod
    def of(cls, frames: list[bytes]) -> Joined:
        joined = cls(b",".join(frames))
        joined.frames = len(frames)
        return joined


class Outbox:
    """Sessions with frames to write, written by one callback per loop iteration.

    Everything pushed during one callback (all the messages of a group commit, an
    ack and the events around it) is written together, so a session's queued frames
    still go out as one batched frame, and a lone frame still goes out at once.
    """

    __slots__ = ("_pending", "_scheduled")

    def __init__(self) -> None:
        self._pending: list[Session] = []
        self._scheduled = False

    def add(self, session: Session) -> None:
        self._pending.append(session)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        for session in pending:
            try:
                session._flush()
            except Exception:  # one broken socket must not hold up everyone else's
                log.exception("writing to %s's connection failed", session.user_name)
                session.close(CloseCode.TRY_AGAIN_LATER, "internal error; reconnect and resume")


class Session:
    """An authenticated connection: user, token, outbound queue, sender task."""

    max_batch = 64
    """Most frames sent together as one batched frame (1: one frame per event)."""
    max_batch_bytes = 256 * 1024
    """A batch stops growing at about this size (a larger frame still goes alone)."""

    def __init__(
        self,
        *,
        user_id: int,
        user_name: str,
        is_admin: bool,
        token_hash: bytes,
        address: str,
        send: SendFn,
        close: CloseFn,
        max_queue: int,
        write: WriteFn | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.user_id = user_id
        self.user_name = user_name
        self.is_admin = is_admin
        self.token_hash = token_hash
        self.address = address
        self._send = send
        self._close = close
        self._write = write
        self._outbox = outbox if write is not None else None
        self._marked = False
        """In the outbox, waiting for its flush."""
        self._first = True
        """Nothing sent yet: the first frame (the welcome) always goes alone."""
        self._max_queue = max_queue
        self._queue: deque[bytes] = deque()
        self._extra = 0
        """Frames queued beyond one per item (the ``Joined`` items hold several)."""
        self._direct = 0
        """Frames at the head of the queue that ``push_direct`` put there (the welcome
        and a resume's replay): bounded by the resume cap, so they are not lag."""
        self._drainer: asyncio.Task[None] | None = None
        """The fast path's task while the socket pushes back (or a flushing close)."""
        self._waiter: asyncio.Future[None] | None = None
        """What the idle sender awaits (a bare future, not an ``asyncio.Event``, whose
        waiters deque costs ~0.8 KiB per idle connection)."""
        self._held: list[tuple[bytes, int | None, int | None]] | None = None
        self._replayed: dict[int, int] = {}
        """Room -> the last seq a resume replayed: live copies up to it are dropped."""
        self.closing = False
        self._closer: asyncio.Task[None] | None = None
        self._close_after_flush: tuple[int, str] | None = None

    # ------------------------------------------------------------ outbound

    def push(self, data: bytes, room: int | None = None, seq: int | None = None) -> None:
        """Queue an encoded frame; never blocks. ``room``/``seq`` identify a message
        so that a resume can drop what it already replayed."""
        if self.closing:
            return
        if room is not None and seq is not None and seq <= self._replayed.get(room, 0):
            return
        if self._held is not None:
            self._held.append((data, room, seq))
            if len(self._held) > self._max_queue:
                self.close(CloseCode.TOO_SLOW, "too far behind; reconnect and resume")
            return
        self._queue.append(data)
        if type(data) is Joined:
            self._extra += data.frames - 1
        self._wake()
        if len(self._queue) + self._extra - self._direct > self._max_queue:
            self.close(CloseCode.TOO_SLOW, "too far behind; reconnect and resume")

    def push_joined(self, frames: Joined) -> None:
        """Queue several frames joined once for many sessions (see ``Joined``)."""
        self.push(frames)

    def push_direct(self, data: bytes) -> None:
        """Queue a frame ahead of anything held (the welcome and a resume's replay,
        whose size the resume cap bounds). Only while holding, so that these frames
        stay at the head of the queue and do not count against ``max_queue``."""
        if self.closing:
            return
        self._queue.append(data)
        self._direct += 1
        self._wake()

    def hold(self) -> None:
        """Hold live frames back while a resume replays history in front of them."""
        self._held = []

    def release(self, replayed_up_to: dict[int, int]) -> None:
        """Queue the held frames, dropping messages the replay already covered, now
        and later: a message the replay read may be published only after this (the
        reader can see a commit before the committer has announced it)."""
        held, self._held = self._held or [], None
        self._replayed = replayed_up_to
        for data, room, seq in held:
            self.push(data, room, seq)

    def _wake(self) -> None:
        outbox = self._outbox
        if outbox is not None and not self.closing:
            if not self._marked:
                self._marked = True
                outbox.add(self)
            return
        self._wake_sender()

    def _wake_sender(self) -> None:
        if self._outbox is not None:
            if self._drainer is None and (self._queue or self._close_after_flush):
                self._drainer = asyncio.get_running_loop().create_task(self._drain())
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @property
    def queued(self) -> int:
        return len(self._queue)

    def _next(self) -> tuple[bytes, int]:
        """The next WebSocket message from the head of the queue, not yet taken off
        it: a lone frame, or up to ``max_batch`` frames (about ``max_batch_bytes``)
        as a JSON array; and how many frames it holds."""
        queue = self._queue
        head = queue[0]
        count = 1
        if not (self._first or len(queue) == 1 or self.max_batch <= 1):
            size = len(head)
            for data in islice(queue, 1, self.max_batch):
                size += len(data) + 1
                if size > self.max_batch_bytes:
                    break
                count += 1
        if count == 1:
            return (b"[" + head + b"]" if type(head) is Joined else head), 1
        return b"[" + b",".join(islice(queue, count)) + b"]", count

    def _taken(self, count: int) -> None:
        """The first ``count`` frames of the queue went out."""
        queue = self._queue
        for _ in range(count):
            item = queue.popleft()
            if type(item) is Joined:
                self._extra -= item.frames - 1
        self._first = False
        self._direct = max(0, self._direct - count)

    def _flush(self) -> None:
        """Write the queue now (the outbox's callback). Left to the sender task when
        it is busy, when the socket pushes back, or when the session is closing."""
        self._marked = False
        write = self._write
        if self._drainer is not None:
            return  # it is waiting for the socket, and takes the queue in order
        if write is None or self.closing:
            self._wake_sender()
            return
        queue = self._queue
        while queue:
            data, count = self._next()
            if not write(data):  # the socket is full: a task waits for it
                self._wake_sender()
                return
            self._taken(count)

    async def _drain(self) -> None:
        """The fast path's slow lane: send what is queued, waiting for the socket to
        drain between frames; then, after a flushing close, close. The task ends
        when the queue is empty (an idle session has no task at all)."""
        queue = self._queue
        try:
            while queue:
                data, count = self._next()
                self._taken(count)
                await self._send(data)
                data = b""
            if self.closing and self._close_after_flush is not None:
                code, reason = self._close_after_flush
                self._close_after_flush = None
                await self._close(code, reason)
        except Exception:  # the socket is gone: the transport's receive loop ends too
            self.closing = True
            queue.clear()
            self._extra = 0
        finally:
            self._drainer = None

    def stop(self) -> None:
        """The connection is over: drop what is queued, cancel any sending task."""
        self.closing = True
        self._queue.clear()
        self._extra = 0
        if self._drainer is not None:
            self._drainer.cancel()

    async def run_sender(self) -> None:
        """Drain the queue to the socket; after a flushing close, close the socket.

        Adaptive batching: when the queue holds several frames, up to ``max_batch``
        of them (and about ``max_batch_bytes``) go out as one WebSocket frame holding
        a JSON array; a lone frame goes out at once as a plain object, and so does
        the first frame of the connection (the welcome). See docs/PROTOCOL.md,
        "Batched frames".
        """
        queue = self._queue
        loop = asyncio.get_running_loop()
        while True:
            if not queue and not self.closing:
                self._waiter = loop.create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
            while queue:
                data, count = self._next()
                self._taken(count)
                await self._send(data)
                # Keep no sent frame alive while idle (the welcome is ~0.6 KiB).
                data = b""
            if self.closing:
                if self._close_after_flush is not None:
                    code, reason = self._close_after_flush
                    await self._close(code, reason)
                return

    # --------------------------------------------------------------- close

    def close(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Close the connection (once). Without ``flush`` queued frames are dropped
        and the socket closes now; with it, what is queued is sent first."""
        if self.closing:
            return
        self.closing = True
        if flush:
            self._close_after_flush = (code, reason)
            self._wake_sender()
            return
        self._queue.clear()
        self._direct = self._extra = 0
        self._wake_sender()  # a parked ``run_sender`` returns
        self._closer = asyncio.get_running_loop().create_task(self._close(code, reason))
