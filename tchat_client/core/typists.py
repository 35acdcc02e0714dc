"""Who is typing where, each notice forgotten after the time the server gave.

Typing is ephemeral: the server relays a notice at most every few seconds and
says how long it holds (``expires_in``); without a fresh one, or once the typist's
message arrives, the name goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["Typists"]


class Typists:
    def __init__(self, changed: Callable[[int, tuple[str, ...]], None]) -> None:
        """``changed(room_id, users)`` runs whenever a room's typists change."""
        self._changed = changed
        self._timers: dict[int, dict[str, asyncio.TimerHandle]] = {}

    def in_room(self, room_id: int) -> tuple[str, ...]:
        return tuple(sorted(self._timers.get(room_id, {})))

    def started(self, room_id: int, user: str, expires_in: float) -> None:
        timers = self._timers.setdefault(room_id, {})
        old = timers.pop(user, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        timers[user] = loop.call_later(max(0.0, expires_in), self.stopped, room_id, user)
        if old is None:
            self._changed(room_id, self.in_room(room_id))

    def stopped(self, room_id: int, user: str) -> None:
        timer = self._timers.get(room_id, {}).pop(user, None)
        if timer is None:
            return
        timer.cancel()
        self._changed(room_id, self.in_room(room_id))

    def forget(self, room_id: int | None = None) -> None:
        """Drop a room's typists (or every room's) without announcing it."""
        rooms = [room_id] if room_id is not None else list(self._timers)
        for room in rooms:
            for timer in self._timers.pop(room, {}).values():
                timer.cancel()
