"""Frames that change or gather existing messages: edits, deletes, reactions,
threads, notification levels and catch-up (mark unread).

Every change to a message bumps its room's change counter and is sent to the
room's members as ``message_updated`` carrying the whole message as it now is, so
applying one twice, or out of order with a later ``history_page``, is harmless. A
reconnecting client names its last seen counter per room in ``hello.changes`` and
the server replays the messages changed since (docs/PROTOCOL.md, "Resume").
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from shared.frame_base import Body, Frame, Rid, RoomId, Seq
from shared.shapes import MessageInfo, NotifyLevel

__all__ = [
    "Delete",
    "Edit",
    "Emoji",
    "MarkUnread",
    "MessageUpdated",
    "React",
    "SetNotify",
    "Thread",
    "ThreadPage",
]

Emoji = Annotated[str, Meta(min_length=1, max_length=64)]
"""A Unicode emoji (``👍``) or its shortcode (``:thumbsup:``); the server stores the
emoji itself and refuses anything that is not one (``emoji_invalid``)."""
MessageSeq = Annotated[int, Meta(ge=1, le=2**53 - 1)]

# --------------------------------------------------------------------------- commands


class Edit(Frame, tag="edit"):
    """Replace the body of one of your own messages (moderators cannot edit others')."""

    room: RoomId
    seq: MessageSeq
    body: Body
    rid: Rid | None = None


class Delete(Frame, tag="delete"):
    """Delete a message: your own, or anyone's if you moderate the room. Leaves a
    tombstone (the seq stays; body, reactions and file card are gone)."""

    room: RoomId
    seq: MessageSeq
    rid: Rid | None = None


class React(Frame, tag="react"):
    """Add (or, with ``remove``, take back) your reaction to a message."""

    room: RoomId
    seq: MessageSeq
    emoji: Emoji
    remove: bool = False
    rid: Rid | None = None


class Thread(Frame, tag="thread"):
    """A message and its replies (oldest first), ``after`` a reply seq for the next page."""

    room: RoomId
    seq: MessageSeq
    after: Seq | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 100
    rid: Rid | None = None


class SetNotify(Frame, tag="set_notify"):
    """Set your notification level for a room and/or mute it (unset fields stay)."""

    room: RoomId
    level: NotifyLevel | None = None
    muted: bool | None = None
    rid: Rid | None = None


class MarkUnread(Frame, tag="mark_unread"):
    """Move your read marker *back* so that ``seq`` is the first unread message."""

    room: RoomId
    seq: MessageSeq
    rid: Rid | None = None


# ----------------------------------------------------------------------------- events


class MessageUpdated(Frame, tag="message_updated"):
    """A message changed (edited, deleted, reacted to, replied to): here it is whole."""

    message: MessageInfo


class ThreadPage(Frame, tag="thread_page"):
    """Answer to ``thread``: the parent and a page of its replies, ascending seq."""

    room: int
    parent: MessageInfo
    replies: list[MessageInfo]
    more: bool = False
    rid: str | None = None
