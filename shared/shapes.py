"""Shapes shared by several frames: rooms, messages, people as one user sees them."""

from __future__ import annotations

from typing import Literal

import msgspec

from shared.frame_base import PresenceStatus, RoomKind, Timestamp

NotifyLevel = Literal["all", "mentions", "none"]
"""When a client should alert its user about a room: every message, only messages
that mention them (``@name``, ``@here`` while online, ``@room``), or never."""
RoomRole = Literal["owner", "moderator", "member"]
ServerRole = Literal["owner", "admin", "member"]


class UserInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    admin: bool = False
    """True for the server roles ``owner`` and ``admin``."""
    role: ServerRole = "member"


class RoomInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """A room as one member sees it, with that member's unread state."""

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
    """For a DM: the other participant."""
    others_read_seq: int = 0
    """In DMs and groups: the furthest any *other* member has read (read receipts
    that happened while this client was away). Always 0 in channels."""
    latest_change: int = 0
    """The room's change counter: bumped by every edit, delete, reaction and reply
    count change of one of its messages (see ``MessageInfo.change``)."""
    notify: NotifyLevel = "all"
    """This member's notification level for the room."""
    muted: bool = False
    """This member muted the room: no unread badge, no alerts (mentions still count)."""
    role: RoomRole = "member"
    """This member's role in the room."""
    slow_mode: int = 0
    """Seconds a member (not a moderator) must wait between two messages; 0 is off."""
    locked: bool = False
    """Only moderators and owners may post."""
    muted_until: float | None = None
    """Set when a moderator muted *this member* (``0`` means until unmuted)."""


class ReplyRef(msgspec.Struct, frozen=True, omit_defaults=True):
    """The message a reply answers, as a one-line quote (read when the reply is
    read, so it shows the parent's current text)."""

    seq: int
    author: str
    snippet: str = ""
    """The first 120 characters of the parent's body, newlines as spaces."""
    deleted: bool = False


class Reaction(msgspec.Struct, frozen=True, omit_defaults=True):
    """One emoji on a message and who put it there, in the order they reacted."""

    emoji: str
    users: list[str]


class FileInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """An uploaded file, as a message's file card shows it."""

    id: int
    name: str
    size: int
    mime: str = "application/octet-stream"
    sha256: str = ""


class MessageInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """A message as it is now: edits, deletion, reactions and the reply count are
    folded in (``message_updated`` sends the whole thing again after a change)."""

    room: int
    seq: int
    id: int
    author: str
    body: str
    ts: Timestamp
    client_msg_id: str | None = None
    edited: Timestamp | None = None
    """When the body was last edited."""
    deleted: bool = False
    """A tombstone: ``body`` is empty, reactions and file are gone."""
    reply_to: int | None = None
    """The seq (same room) of the message this one answers."""
    reply: ReplyRef | None = None
    reply_count: int = 0
    """How many replies this message has (the thread's length)."""
    reactions: list[Reaction] = []
    file: FileInfo | None = None
    change: int = 0
    """The room's change counter at this message's last change (0: never changed)."""


class PresenceInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    user: str
    status: PresenceStatus
    text: str = ""


class MemberInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    user: str
    status: PresenceStatus = "offline"
    text: str = ""
    role: RoomRole = "member"
    muted_until: float | None = None
    """Set when a moderator muted the member (``0``: until unmuted)."""


class ChannelInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    id: int
    name: str
    topic: str = ""
    member_count: int = 0
    joined: bool = False


class ResumeInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """What resume did for one room: replayed seqs ``from_seq+1..latest_seq``, or,
    when ``truncated``, nothing (more were missing than the cap: page history)."""

    room: int
    from_seq: int
    latest_seq: int
    replayed: int = 0
    truncated: bool = False
    latest_change: int = 0
    """The room's change counter after the replay: the client's next change cursor."""
    changes_replayed: int = 0
    """How many ``message_updated`` frames the resume sent for this room."""
    changes_truncated: bool = False
    """More messages changed than the cap: none were replayed; refetch what you hold."""


class Limits(msgspec.Struct, frozen=True):
    max_body: int
    max_frame: int
    history_page: int
    resume_cap: int
    typing_interval: float
    typing_expiry: float
    max_file: int = 0
    """Largest upload in bytes (0: uploads are off)."""
    file_chunk: int = 0
    """Bytes of file data per ``upload_chunk`` / ``file_chunk`` frame, at most."""
