"""Requests that expect an answer (history, join, members...), with retries.

A request waits for a caught-up connection, retries after a drop when it is safe
to repeat, waits out a rate limit when the wait fits in its deadline, and turns
"no answer in time" into ``Unreachable``. History pages also land in the cache
and the state.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

import msgspec

from shared import frames as wire
from shared.errors import ErrorCode
from tchat_client.core.cache import Cache
from tchat_client.core.connection import Connection
from tchat_client.core.errors import (
    ClientError,
    ConnectionLost,
    NotConnected,
    RequestFailed,
    Unreachable,
)
from tchat_client.core.link import Link
from tchat_client.core.models import Message
from tchat_client.core.state import State

__all__ = ["Requester"]

T = TypeVar("T")

PAGE = 100
"""Messages asked for per history request (the server caps a page at 200)."""


class Requester:
    def __init__(
        self, connection: Connection, link: Link, state: State, cache: Cache, timeout: float
    ) -> None:
        self._connection = connection
        self._link = link
        self._state = state
        self._cache = cache
        self._timeout = timeout

    async def call(self, frame: msgspec.Struct, answer: type[T], *, retry: bool = True) -> T:
        """A request answered by a frame of type ``answer``. ``retry``: safe to send
        again after a drop or a rate limit (reads and idempotent writes).

        Raises:
            RequestFailed: the server refused it.
            Unreachable: no answer within the request timeout.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    await self._link.until(asyncio.ensure_future(self._link.caught_up.wait()))
                    result = await self._connection.request(frame)
            except TimeoutError:
                raise Unreachable("no answer from the server in time") from None
            except (NotConnected, ConnectionLost):
                if not retry:
                    raise
                continue
            except RequestFailed as exc:
                wait = exc.retry_after
                if (
                    retry
                    and exc.code == ErrorCode.RATE_LIMITED
                    and wait is not None
                    and loop.time() + wait < deadline
                ):
                    await asyncio.sleep(wait)
                    continue
                raise
            if not isinstance(result, answer):
                raise ClientError(f"unexpected answer from the server: {type(result).__name__}")
            return result

    async def history(
        self, room_id: int, *, before: int | None = None, limit: int = 50
    ) -> list[Message]:
        """Up to ``limit`` messages older than ``before`` (the newest without it),
        oldest first, page by page."""
        collected: list[wire.MessageInfo] = []
        cursor = before
        while len(collected) < limit:
            ask = wire.History(room=room_id, before=cursor, limit=min(PAGE, limit - len(collected)))
            page = await self.call(ask, wire.HistoryPage)
            collected[:0] = page.messages
            self._store(room_id, page)
            if not page.more or not page.messages:
                break
            cursor = page.messages[0].seq
        return self._shown(room_id, collected)

    async def history_after(self, room_id: int, after: int, limit: int = 1000) -> list[Message]:
        """Up to ``limit`` messages newer than seq ``after``, oldest first."""
        collected: list[wire.MessageInfo] = []
        cursor = after
        while len(collected) < limit:
            ask = wire.History(room=room_id, after=cursor, limit=min(PAGE, limit - len(collected)))
            page = await self.call(ask, wire.HistoryPage)
            collected.extend(page.messages)
            self._store(room_id, page)
            if not page.more or not page.messages:
                break
            cursor = page.messages[-1].seq
        return self._shown(room_id, collected)

    def _store(self, room_id: int, page: wire.HistoryPage) -> None:
        self._cache.add_messages(Message.from_info(info) for info in page.messages)
        self._state.add_history(room_id, page.messages, page.more)

    def _shown(self, room_id: int, infos: list[wire.MessageInfo]) -> list[Message]:
        """The messages as the state holds them (own ones carry their state)."""
        held = {m.seq: m for m in self._state.messages(room_id)}
        return [held.get(info.seq) or Message.from_info(info) for info in infos]
