"""The client's view of rooms, messages and people: plain frozen dataclasses.

Built from wire shapes (``shared.frames``) but owned by the client, so that the UI
never handles wire frames and the cache can store them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.frames import MessageInfo, RoomInfo

__all__ = [
    "FileCard",
    "Member",
    "Message",
    "MessageState",
    "Presence",
    "ReactionCount",
    "ReplyPreview",
    "Room",
    "RoomKind",
    "room_label",
]

RoomKind = Literal["channel", "group", "dm"]
NotifyLevel = Literal["all", "mentions", "none"]
RoomRole = Literal["owner", "moderator", "member"]
MessageState = Literal["queued", "sent", "delivered", "read", "failed"]
"""An own message's life: ``queued`` (in the outbox, not written to a socket yet),
``sent`` (written, no answer yet), ``delivered`` (acked: stored with a seq), ``read``
(another member's read marker passed it), or ``failed`` (refused for good)."""


def room_label(kind: str, name: str, dm_user: str | None = None) -> str:
    """How a user names a room: ``#channel``, ``@user`` for a DM, ``group`` bare."""
    if kind == "dm":
        return f"@{dm_user or name}"
    if kind == "channel":
        return f"#{name}"
    return name


@dataclass(frozen=True, slots=True)
class Room:
    id: int
    name: str
    kind: RoomKind
    topic: str = ""
    member_count: int = 0
    latest_seq: int = 0
    last_read_seq: int = 0
    unread: int = 0
    mentions: int = 0
    dm_user: str | None = None
    others_read_seq: int = 0
    """Highest read marker of any *other* member (DMs and groups: read receipts)."""
    latest_change: int = 0
    """The server's change counter for the room (edits, deletes, reactions...)."""
    notify: NotifyLevel = "all"
    muted: bool = False
    """The user muted the room: no unread badge, no alerts."""
    role: RoomRole = "member"
    """The user's role in the room."""
    slow_mode: int = 0
    locked: bool = False
    muted_until: float | None = None
    """A moderator muted the user here (0: until unmuted)."""

    @property
    def can_moderate(self) -> bool:
        """A hint for the UI only: the server decides every action."""
        return self.role in ("owner", "moderator")

    @property
    def label(self) -> str:
        return room_label(self.kind, self.name, self.dm_user)

    @property
    def first_unread_seq(self) -> int | None:
        """Where "new messages" begin (the seq after the read marker), or None when
        the room is read to its end."""
        return self.last_read_seq + 1 if self.latest_seq > self.last_read_seq else None

    @classmethod
    def from_info(cls, info: RoomInfo, others_read_seq: int = 0) -> Room:
        """``others_read_seq``: what the client already knows (a live receipt may be
        ahead of the snapshot in ``info``); the furthest of the two wins."""
        return cls(
            id=info.id,
            name=info.name,
            kind=info.kind,
            topic=info.topic,
            member_count=info.member_count,
            latest_seq=info.latest_seq,
            last_read_seq=info.last_read_seq,
            unread=info.unread,
            mentions=info.mentions,
            dm_user=info.dm_user,
            others_read_seq=max(others_read_seq, info.others_read_seq),
            latest_change=info.latest_change,
            notify=info.notify,
            muted=info.muted,
            role=info.role,
            slow_mode=info.slow_mode,
            locked=info.locked,
            muted_until=info.muted_until,
        )


@dataclass(frozen=True, slots=True)
class ReplyPreview:
    """The one-line quote of the message a reply answers."""

    seq: int
    author: str
    snippet: str = ""
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class ReactionCount:
    emoji: str
    users: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.users)


@dataclass(frozen=True, slots=True)
class FileCard:
    """An uploaded file attached to a message."""

    id: int
    name: str
    size: int
    mime: str = "application/octet-stream"
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    """A stored message (``seq`` set) or one of ours still in the outbox (``seq``
    None; ``room`` None for a first DM whose room the server has yet to create)."""

    room: int | None
    seq: int | None
    author: str
    body: str
    ts: float
    client_msg_id: str | None = None
    id: int | None = None
    state: MessageState | None = None
    """Only for the user's own messages; None for everyone else's."""
    target: str | None = None
    """For an outgoing message: what it was addressed to (``#general``, ``@bob``)."""
    error: str | None = None
    reply_to: int | None = None
    """The seq of the message this one answers (same room)."""
    reply: ReplyPreview | None = None
    reply_count: int = 0
    edited: float | None = None
    """When the body was last edited (None: never)."""
    deleted: bool = False
    """A tombstone: the body, reactions and file are gone."""
    reactions: tuple[ReactionCount, ...] = ()
    file: FileCard | None = None
    change: int = 0
    """The room's change counter at this message's last change."""

    @classmethod
    def from_info(cls, info: MessageInfo, state: MessageState | None = None) -> Message:
        reply = info.reply
        card = info.file
        return cls(
            room=info.room,
            seq=info.seq,
            author=info.author,
            body=info.body,
            ts=info.ts,
            client_msg_id=info.client_msg_id,
            id=info.id,
            state=state,
            reply_to=info.reply_to,
            reply=ReplyPreview(reply.seq, reply.author, reply.snippet, reply.deleted)
            if reply is not None
            else None,
            reply_count=info.reply_count,
            edited=info.edited,
            deleted=info.deleted,
            reactions=tuple(ReactionCount(r.emoji, tuple(r.users)) for r in info.reactions),
            file=FileCard(card.id, card.name, card.size, card.mime, card.sha256)
            if card is not None
            else None,
            change=info.change,
        )


@dataclass(frozen=True, slots=True)
class Presence:
    user: str
    status: Literal["online", "away", "dnd", "offline"]
    text: str = ""


@dataclass(frozen=True, slots=True)
class Member:
    user: str
    status: Literal["online", "away", "dnd", "offline"] = "offline"
    text: str = ""
    role: RoomRole = "member"
    """The member's role in the room."""
    muted_until: float | None = None
    """A moderator muted the member (0: until unmuted)."""
