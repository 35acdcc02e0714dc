"""Where the connection stands, shared by the parts that wait on it.

``Sync`` moves it (caught up, lost, failed for good); the requests, the outbox
flush and ``wait_delivered`` wait on it, so that none of them hangs once the
connection has given up.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tchat_client.core.errors import ClientError

__all__ = ["Link"]


class Link:
    def __init__(self) -> None:
        self.caught_up = asyncio.Event()
        """Set while a welcomed connection has finished its resume."""
        self.changed = asyncio.Event()
        """Pulsed on any change worth re-checking (outbox, failure)."""
        self.failure: ClientError | None = None
        self._ready: asyncio.Future[None] | None = None

    @property
    def ready(self) -> asyncio.Future[None]:
        """Resolved when the first connection is caught up, or failed for good."""
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
        return self._ready

    def pulse(self) -> None:
        self.changed.set()

    def up(self) -> None:
        self.caught_up.set()
        if not self.ready.done():
            self.ready.set_result(None)

    def down(self) -> None:
        self.caught_up.clear()

    def fail(self, error: ClientError) -> None:
        self.failure = error
        self.caught_up.clear()
        if not self.ready.done():
            self.ready.set_exception(error)
            self.ready.exception()  # retrieved: no "never retrieved" warning
        self.pulse()

    def cancel(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()

    async def until(self, awaitable: asyncio.Future[Any]) -> None:
        """Wait for ``awaitable``; raise the connection's failure if that comes first
        (``awaitable`` is cancelled unless it finished)."""
        try:
            if self.failure is not None:
                raise self.failure
            failed = asyncio.ensure_future(self._failed())
            try:
                await asyncio.wait([awaitable, failed], return_when=asyncio.FIRST_COMPLETED)
            finally:
                failed.cancel()
            if not awaitable.done() and self.failure is not None:
                raise self.failure
            awaitable.result()
        finally:
            if not awaitable.done():
                awaitable.cancel()

    async def _failed(self) -> None:
        while self.failure is None:
            self.changed.clear()
            await self.changed.wait()
