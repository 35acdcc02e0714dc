"""Typed change events: what a UI subscribes to instead of reading the state.

The state emits one of these for every change it makes; a subscriber applies them
(attributes down, events up). Nothing here knows about widgets.

Message lifecycle as events: someone else's message arrives as ``MessageAdded``
(live or replayed after a reconnect, each seq once). One of our own appears as
``MessageAdded`` with ``seq=None`` and ``state="queued"``, then changes through
``MessageStateChanged`` (``sent``, ``delivered`` with its seq, ``read``, or
``failed``). Older pages come as ``HistoryLoaded``. ``RoomReset`` and
``StateReset`` mean cached messages were dropped and will be fetched again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tchat_client.core.models import Member, Message, MessageState, Room

__all__ = [
    "ChangeEvent",
    "ConnectionChanged",
    "ConnectionStatus",
    "HistoryLoaded",
    "MembersChanged",
    "MembershipChanged",
    "MessageAdded",
    "MessageChanged",
    "MessageStateChanged",
    "ModerationNotice",
    "Notice",
    "PresenceChanged",
    "RoomChanged",
    "RoomRemoved",
    "RoomReset",
    "StateReset",
    "TopicChanged",
    "TypingChanged",
]

ConnectionStatus = Literal["offline", "connecting", "connected", "disconnected", "failed"]


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    """``connected`` means authenticated *and* caught up (resume finished).
    ``disconnected`` carries when the next attempt is due; ``failed`` is final
    (bad token, unsupported protocol) and ``detail`` says why."""

    status: ConnectionStatus
    detail: str = ""
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class RoomChanged:
    """A room was added or changed (name, topic, counts, read markers)."""

    room: Room


@dataclass(frozen=True, slots=True)
class RoomRemoved:
    room_id: int


@dataclass(frozen=True, slots=True)
class RoomReset:
    """The room's messages were dropped (too many missed to replay): show them
    again from the next ``HistoryLoaded``."""

    room_id: int


@dataclass(frozen=True, slots=True)
class StateReset:
    """The server's database changed (new epoch): every room and message held
    before is void. Rooms and history follow as fresh events."""

    epoch: str


@dataclass(frozen=True, slots=True)
class MessageAdded:
    message: Message


@dataclass(frozen=True, slots=True)
class HistoryLoaded:
    """A page of a room's messages (ascending seq) that was not known before."""

    room_id: int
    messages: tuple[Message, ...]
    more: bool


@dataclass(frozen=True, slots=True)
class MessageStateChanged:
    client_msg_id: str
    room_id: int | None
    state: MessageState
    seq: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    user: str
    status: Literal["online", "away", "dnd", "offline"]
    text: str = ""


@dataclass(frozen=True, slots=True)
class TypingChanged:
    """Who is typing in a room now (empty when nobody is)."""

    room_id: int
    users: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MembersChanged:
    """A room's full member list (after ``Client.members`` or a join/leave)."""

    room_id: int
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class MembershipChanged:
    """Someone joined (``joined``) or left a room; ``by`` names an inviter."""

    room_id: int
    user: str
    joined: bool
    by: str | None = None


@dataclass(frozen=True, slots=True)
class TopicChanged:
    room_id: int
    topic: str
    by: str


@dataclass(frozen=True, slots=True)
class Notice:
    """An error the server reported that belongs to no request of ours."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class MessageChanged:
    """A stored message changed: edited, deleted (a tombstone), reacted to, or its
    reply count moved. ``message`` is the whole message as it now is; replace the
    one with the same (room, seq)."""

    message: Message


@dataclass(frozen=True, slots=True)
class ModerationNotice:
    """A moderation action in a room (``room_moderated``): show it as a system line.
    ``action``: kick, ban, unban, mute, unmute, role, slow_mode, lock, unlock, delete."""

    room_id: int
    action: str
    by: str
    user: str | None = None
    reason: str = ""
    until: float | None = None
    seconds: int | None = None
    role: str | None = None
    seq: int | None = None


ChangeEvent = (
    ConnectionChanged
    | RoomChanged
    | RoomRemoved
    | RoomReset
    | StateReset
    | MessageAdded
    | HistoryLoaded
    | MessageStateChanged
    | PresenceChanged
    | TypingChanged
    | MembersChanged
    | MembershipChanged
    | TopicChanged
    | Notice
    | MessageChanged
    | ModerationNotice
)
