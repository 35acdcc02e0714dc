"""Moderation: kick, ban, mute (both optionally timed), room roles, slow mode and
room lock. The server checks every one against the actor's roles; the client
never decides. Each action is written to the audit log and announced to the room
as ``room_moderated``.

Who may do what (docs/PROTOCOL.md, "Moderation"): a room's owner and moderators,
and the server's owner and admins in any room, may kick, ban, mute, delete
anyone's message, set slow mode and lock; only a room's owner (or a server
owner/admin) sets roles. Nobody acts on someone of equal or higher rank.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from shared.frame_base import Frame, Name, Rid, RoomId
from shared.shapes import RoomRole

__all__ = [
    "Ban",
    "Kick",
    "LockRoom",
    "ModerationAction",
    "Mute",
    "RoomModerated",
    "SetRole",
    "SetSlowMode",
    "Unban",
    "Unmute",
]

Reason = Annotated[str, Meta(max_length=300)]
Duration = Annotated[float, Meta(gt=0, le=366 * 86400)]
"""Seconds; absent means until lifted."""

ModerationAction = Literal[
    "kick", "ban", "unban", "mute", "unmute", "role", "slow_mode", "lock", "unlock", "delete"
]

# --------------------------------------------------------------------------- commands


class Kick(Frame, tag="kick"):
    """Remove a member from a channel or group (they may join or be invited again)."""

    room: RoomId
    user: Name
    reason: Reason = ""
    rid: Rid | None = None


class Ban(Frame, tag="ban"):
    """Remove a member and keep them out (no join, no invite) until ``duration``
    has passed, or until unbanned."""

    room: RoomId
    user: Name
    duration: Duration | None = None
    reason: Reason = ""
    rid: Rid | None = None


class Unban(Frame, tag="unban"):
    room: RoomId
    user: Name
    rid: Rid | None = None


class Mute(Frame, tag="mute"):
    """The member stays and reads but may not post, react or edit (``muted``)."""

    room: RoomId
    user: Name
    duration: Duration | None = None
    reason: Reason = ""
    rid: Rid | None = None


class Unmute(Frame, tag="unmute"):
    room: RoomId
    user: Name
    rid: Rid | None = None


class SetRole(Frame, tag="set_role"):
    room: RoomId
    user: Name
    role: RoomRole
    rid: Rid | None = None


class SetSlowMode(Frame, tag="set_slow_mode"):
    """``seconds`` between two messages of one member (not moderators); 0 turns it off."""

    room: RoomId
    seconds: Annotated[int, Meta(ge=0, le=21_600)]
    rid: Rid | None = None


class LockRoom(Frame, tag="lock_room"):
    """``locked``: only moderators and owners may post; false unlocks."""

    room: RoomId
    locked: bool = True
    rid: Rid | None = None


# ----------------------------------------------------------------------------- events


class RoomModerated(Frame, tag="room_moderated"):
    """A moderation action, announced to the room's members (and to a removed
    member, who also gets ``room_left``). ``until`` for timed bans and mutes;
    ``seconds`` for slow mode; ``role`` for role changes; ``seq`` for a deleted
    message."""

    room: int
    action: ModerationAction
    by: str
    user: str | None = None
    reason: str = ""
    until: float | None = None
    seconds: int | None = None
    role: RoomRole | None = None
    seq: int | None = None
