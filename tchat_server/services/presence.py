"""Presence (online / away / dnd / offline, with a status text) and typing.

Both are ephemeral and held in memory: a user is online while any of their
connections is, and their chosen status applies while they are. Changes go to
everyone who shares a room with them (and to the user's own sessions). Typing is
relayed at most once per user per room per ``typing_interval`` and expires on the
client after ``typing_expiry``.

Changes are announced in rounds, ``flush_delay`` seconds after the first change
of a round, so that a burst of connections (a server restart, a network blip)
costs each member one batched frame per round rather than one frame per person,
and a user who left and came back within the round (a reconnect) is not
announced at all: only what differs from the last announcement goes out. Each
round encodes every change once and joins the changes of each room once; a member
of one room (or of several with the same changes) is then a single push of bytes
shared with everyone else in the same position. A 5,000-member room coming online
at once was otherwise O(n^2) frames and pushes (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

import asyncio
import time

from shared.codec import encode
from shared.frames import PresenceChanged, PresenceInfo, UserTyping
from tchat_server.hub import Hub
from tchat_server.session import Joined

__all__ = ["PresenceService"]

_OFFLINE = ("offline", "")


class PresenceService:
    def __init__(
        self, hub: Hub, typing_interval: float, typing_expiry: float, flush_delay: float = 0.05
    ) -> None:
        self._hub = hub
        self._statuses: dict[int, tuple[str, str]] = {}
        """Chosen statuses other than plain online, while the user is online."""
        self._names: dict[int, str] = {}
        self._typing_interval = typing_interval
        self._typing_expiry = typing_expiry
        self._last_typing: dict[tuple[int, int], float] = {}
        self.flush_delay = flush_delay
        """Seconds from the first change of a round to its announcement."""
        self._announced: dict[int, tuple[str, str]] = {}
        """What co-members were last told of each user not offline."""
        self._infos: dict[int, PresenceInfo] = {}
        """The welcome's entry for each user not offline, built once per change."""
        self._dirty: set[int] = set()
        self._round: asyncio.TimerHandle | None = None

    def status_of(self, user_id: int) -> tuple[str, str]:
        if not self._hub.is_online(user_id):
            return _OFFLINE
        return self._statuses.get(user_id, ("online", ""))

    def connected(self, user_id: int, name: str, first: bool) -> None:
        """A session of the user started; announce them when it is their first."""
        self._names[user_id] = name
        if first:
            self._changed(user_id)

    def disconnected(self, user_id: int, last: bool) -> None:
        if last:
            self._statuses.pop(user_id, None)
            self._changed(user_id)
            for key in [k for k in self._last_typing if k[0] == user_id]:
                del self._last_typing[key]

    def set_status(self, user_id: int, status: str, text: str) -> None:
        self._statuses[user_id] = (status, " ".join(text.split()))
        self._changed(user_id)

    def snapshot_for(self, user_id: int) -> list[PresenceInfo]:
        """Who among the user (and their co-members) is not offline (for the welcome)."""
        online: set[int] = set()
        hub = self._hub
        for room_id in hub.rooms_of(user_id):
            online.update(hub.online_in(room_id))
        if hub.is_online(user_id):
            online.add(user_id)
        infos = self._infos
        found = [infos.get(other) or self._info(other) for other in sorted(online)]
        return [info for info in found if info is not None]

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

    # ------------------------------------------------------------- rounds

    def _info(self, user_id: int) -> PresenceInfo | None:
        """The user's current entry (cached), or None when offline or unnamed."""
        status, text = self.status_of(user_id)
        name = self._names.get(user_id)
        if status == "offline" or name is None:
            self._infos.pop(user_id, None)
            return None
        info = self._infos[user_id] = PresenceInfo(user=name, status=status, text=text)  # type: ignore[arg-type]
        return info

    def _changed(self, user_id: int) -> None:
        self._infos.pop(user_id, None)
        self._dirty.add(user_id)
        if self._round is None:
            loop = asyncio.get_running_loop()
            self._round = loop.call_later(self.flush_delay, self.flush)

    def flush(self) -> None:
        """Announce what changed since the last round (called by the round's timer)."""
        if self._round is not None:
            self._round.cancel()
            self._round = None
        dirty, self._dirty = self._dirty, set()
        changes: dict[int, bytes] = {}
        for user_id in sorted(dirty):
            name = self._names.get(user_id)
            now = self.status_of(user_id)
            if name is None or self._announced.get(user_id, _OFFLINE) == now:
                continue  # nothing to tell (a reconnect within the round)
            if now == _OFFLINE:
                del self._announced[user_id]
            else:
                self._announced[user_id] = now
            status, text = now
            changes[user_id] = encode(PresenceChanged(user=name, status=status, text=text))  # type: ignore[arg-type]
        if changes:
            self._send(changes)

    def _send(self, changes: dict[int, bytes]) -> None:
        hub = self._hub
        by_room: dict[int, list[int]] = {}
        for user_id in changes:
            for room_id in hub.rooms_of(user_id):
                by_room.setdefault(room_id, []).append(user_id)
        rooms_for: dict[int, list[int]] = {}
        for room_id in by_room:
            for member in hub.online_in(room_id):
                rooms_for.setdefault(member, []).append(room_id)
        for user_id in changes:  # the user's own sessions hear it, rooms or not
            rooms_for.setdefault(user_id, [])
        joined: dict[tuple[int, ...], bytes] = {}
        for recipient, room_ids in rooms_for.items():
            own = recipient if recipient in changes else 0
            key = (own, *room_ids)
            found = joined.get(key)
            if found is None:
                users = dict.fromkeys(u for room_id in room_ids for u in by_room[room_id])
                if own:
                    users[own] = None
                frames = [changes[u] for u in users]
                found = joined[key] = frames[0] if len(frames) == 1 else Joined.of(frames)
            if type(found) is Joined:
                hub.to_user_joined(recipient, found)
            else:
                hub.to_user(recipient, found)
