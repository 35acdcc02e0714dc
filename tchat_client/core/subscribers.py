"""Fan-out of change events to callbacks and async iterators.

A subscriber that raises is logged and kept: one broken view must not stop the
state from updating the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from tchat_client.core.events import ChangeEvent

__all__ = ["EventStream", "Subscribers"]

log = logging.getLogger("tchat.client")

Callback = Callable[[ChangeEvent], None]


class Subscribers:
    def __init__(self) -> None:
        self._callbacks: list[Callback] = []

    def add(self, callback: Callback) -> Callable[[], None]:
        self._callbacks.append(callback)

        def remove() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return remove

    def emit(self, event: ChangeEvent) -> None:
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:
                log.exception("a change-event subscriber failed on %s", type(event).__name__)


class EventStream:
    """``async for event in state.stream()``: subscribed from creation, so nothing
    emitted between creating it and the first ``await`` is missed. Unbounded:
    consume it, or ``close()`` it."""

    def __init__(self, subscribers: Subscribers) -> None:
        self._queue: asyncio.Queue[ChangeEvent] = asyncio.Queue()
        self._remove = subscribers.add(self._queue.put_nowait)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> ChangeEvent:
        return await self._queue.get()

    def close(self) -> None:
        self._remove()
