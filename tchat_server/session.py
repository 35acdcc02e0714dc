"""One authenticated connection as the server's rules see it: who, and a bounded
outbound queue drained by its own sender task.

No websockets here: the transport hands in ``send`` and ``close`` callables. Fan-out
only appends to the queue (never awaits), so a slow client cannot stall anyone; one
that falls ``max_queue`` frames behind is closed and resumes on reconnect.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from shared.errors import CloseCode

__all__ = ["Session"]

SendFn = Callable[[bytes], Coroutine[Any, Any, None]]
CloseFn = Callable[[int, str], Coroutine[Any, Any, None]]


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
    ) -> None:
        self.user_id = user_id
        self.user_name = user_name
        self.is_admin = is_admin
        self.token_hash = token_hash
        self.address = address
        self._send = send
        self._close = close
        self._max_queue = max_queue
        self._queue: deque[bytes] = deque()
        self._direct = 0
        """Frames at the head of the queue that ``push_direct`` put there (the welcome
        and a resume's replay): bounded by the resume cap, so they are not lag."""
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
        self._wake()
        if len(self._queue) - self._direct > self._max_queue:
            self.close(CloseCode.TOO_SLOW, "too far behind; reconnect and resume")

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
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def run_sender(self) -> None:
        """Drain the queue to the socket; after a flushing close, close the socket.

        Adaptive batching: when the queue holds several frames, up to ``max_batch``
        of them (and about ``max_batch_bytes``) go out as one WebSocket frame holding
        a JSON array; a lone frame goes out at once as a plain object, and so does
        the first frame of the connection (the welcome). See docs/PROTOCOL.md,
        "Batched frames".
        """
        queue = self._queue
        first = True
        loop = asyncio.get_running_loop()
        while True:
            if not queue and not self.closing:
                self._waiter = loop.create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
            while queue:
                if first or len(queue) == 1 or self.max_batch <= 1:
                    data = queue.popleft()
                    taken = 1
                    first = False
                else:
                    parts = [queue.popleft()]
                    size = len(parts[0])
                    while queue and len(parts) < self.max_batch:
                        size += len(queue[0]) + 1
                        if size > self.max_batch_bytes:
                            break
                        parts.append(queue.popleft())
                    taken = len(parts)
                    data = parts[0] if taken == 1 else b"[" + b",".join(parts) + b"]"
                self._direct = max(0, self._direct - taken)
                await self._send(data)
                # Keep no sent frame alive while idle (the welcome is ~0.6 KiB).
                data, parts = b"", []
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
        self._wake()
        if flush:
            self._close_after_flush = (code, reason)
            return
        self._queue.clear()
        self._direct = 0
        self._closer = asyncio.get_running_loop().create_task(self._close(code, reason))
