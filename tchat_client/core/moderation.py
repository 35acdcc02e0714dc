"""Moderation requests, reached as ``client.moderation``: kick, ban, mute (both
optionally for a time), roles, slow mode and room lock.

The client never decides who may moderate (``Room.can_moderate`` is a hint for
a UI): every request goes to the server, which checks it and answers ``ok`` or
refuses with ``forbidden`` (``RequestFailed``), changing nothing. The result
arrives as ``room_moderated`` for everyone in the room (``ModerationNotice``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from shared import frames as wire
from tchat_client.core.actions import build_frame
from tchat_client.core.models import RoomRole

__all__ = ["Moderation"]

Call = Callable[..., Awaitable[Any]]
"""``Client.call``: send a frame, wait for its answer."""


class Moderation:
    def __init__(self, call: Call) -> None:
        self._call = call

    async def _ok(self, frame: msgspec.Struct, *, retry: bool = True) -> None:
        await self._call(frame, wire.Ok, retry=retry)

    async def kick(self, room_id: int, user: str, reason: str = "") -> None:
        """Remove a member (they may come back by joining or an invite).

        Raises:
            RequestFailed: ``forbidden``, ``not_member``, ``user_not_found``.
        """
        # Not repeated after a drop: a kick that went through would answer not_member.
        frame = build_frame(wire.Kick, room=room_id, user=user, reason=reason)
        await self._ok(frame, retry=False)

    async def ban(
        self, room_id: int, user: str, duration: float | None = None, reason: str = ""
    ) -> None:
        """Remove a member and keep them out for ``duration`` seconds (None: until
        unbanned)."""
        frame = build_frame(wire.Ban, room=room_id, user=user, duration=duration, reason=reason)
        await self._ok(frame)

    async def unban(self, room_id: int, user: str) -> None:
        await self._ok(build_frame(wire.Unban, room=room_id, user=user))

    async def mute(
        self, room_id: int, user: str, duration: float | None = None, reason: str = ""
    ) -> None:
        """The member may read but not post, edit or react, for ``duration``
        seconds (None: until unmuted)."""
        frame = build_frame(wire.Mute, room=room_id, user=user, duration=duration, reason=reason)
        await self._ok(frame)

    async def unmute(self, room_id: int, user: str) -> None:
        await self._ok(build_frame(wire.Unmute, room=room_id, user=user))

    async def set_role(self, room_id: int, user: str, role: RoomRole) -> None:
        """``owner``, ``moderator`` or ``member`` (only a room's owner or a server
        admin may)."""
        await self._ok(build_frame(wire.SetRole, room=room_id, user=user, role=role))

    async def slow_mode(self, room_id: int, seconds: int) -> None:
        """Seconds a member must wait between two messages; 0 turns it off."""
        await self._ok(build_frame(wire.SetSlowMode, room=room_id, seconds=seconds))

    async def lock(self, room_id: int, locked: bool = True) -> None:
        """Only moderators and owners may post (``locked=False`` unlocks)."""
        await self._ok(build_frame(wire.LockRoom, room=room_id, locked=locked))
