"""Presence (online / away / dnd / offline, with a status text) and typing.

Both are ephemeral and held in memory: a user is online while any of their
connections is, and their chosen status applies while they are. Changes go to
everyone who shares a room with them. Typing is relayed at most once per user per
room per ``typing_interval`` and expires on the client after ``typing_expiry``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from shared.codec import encode
from shared.frames import PresenceChanged, PresenceInfo, UserTyping
from tchat_server.hub import Hub

__all__ = ["PresenceService"]


@dataclass(slots=True)
class _Status:
    status: str = "online"
    text: str = ""


class PresenceService:
    def __init__(self, hub: Hub, typing_interval: float, typing_expiry: float) -> None:
        self._hub = hub
        self._statuses: dict[int, _Status] = {}
        self._names: dict[int, str] = {}
        self._typing_interval = typing_interval
        self._typing_expiry = typing_expiry
        self._last_typing: dict[tuple[int, int], float] = {}

    def status_of(self, user_id: int) -> tuple[str, str]:
        if not self._hub.is_online(user_id):
            return "offline", ""
        current = self._statuses.get(user_id, _Status())
        return current.status, current.text

    def connected(self, user_id: int, name: str, first: bool) -> None:
        """A session of the user started; announce them when it is their first."""
        self._names[user_id] = name
        if first:
            self._announce(user_id)

    def disconnected(self, user_id: int, last: bool) -> None:
        if last:
            self._statuses.pop(user_id, None)
            self._announce(user_id)
            for key in [k for k in self._last_typing if k[0] == user_id]:
                del self._last_typing[key]

    def set_status(self, user_id: int, status: str, text: str) -> None:
        self._statuses[user_id] = _Status(status, " ".join(text.split()))
        self._announce(user_id)

    def snapshot_for(self, user_id: int) -> list[PresenceInfo]:
        """Who among the user (and their co-members) is not offline (for the welcome)."""
        found: list[PresenceInfo] = []
        for other in sorted(self._hub.co_members(user_id) | {user_id}):
            status, text = self.status_of(other)
            name = self._names.get(other)
            if status != "offline" and name is not None:
                found.append(PresenceInfo(user=name, status=status, text=text))  # type: ignore[arg-type]
        return found

    def known_names(self) -> dict[int, str]:
        return dict(self._names)

    def typing(self, user_id: int, name: str, room_id: int) -> bool:
        """Relay a typing notice unless one went out within the interval."""
        if not self._hub.is_member(room_id, user_id):
            return False
        now = time.monotonic()
        key = (user_id, room_id)
        if now - self._last_typing.get(key, -1e9) < self._typing_interval:
            return False
        self._last_typing[key] = now
        event = UserTyping(room=room_id, user=name, expires_in=self._typing_expiry)
        self._hub.publish(room_id, encode(event), exclude_user=user_id)
        return True

    def _announce(self, user_id: int) -> None:
        status, text = self.status_of(user_id)
        name = self._names.get(user_id)
        if name is None:
            return
        event = encode(PresenceChanged(user=name, status=status, text=text))  # type: ignore[arg-type]
        self._hub.to_users(self._hub.co_members(user_id) | {user_id}, event)
