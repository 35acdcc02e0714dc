"""What a user does to messages already stored, and to how a room notifies them:
edit, delete, react, read a thread, set the notification level, mark unread.

A part of ``Client`` kept in its own module (``Client`` inherits it). Each is a
request answered ``ok`` (or a ``thread_page``); the effect arrives as events that
the state applies like anyone else's (``message_updated`` ->
``MessageChanged``, ``room_updated`` -> ``RoomChanged``), so the UI never
patches a message itself. A refusal raises ``RequestFailed`` with the server's
code (``forbidden``, ``message_not_found``, ``emoji_invalid``, ``muted``...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from shared import frames as wire
from shared.errors import ErrorCode
from tchat_client.core.changes import reply_preview
from tchat_client.core.errors import RequestFailed
from tchat_client.core.models import Message, NotifyLevel
from tchat_client.core.outbox import OutboxEntry
from tchat_client.core.state import State

__all__ = ["MessageActions", "build_frame", "check_message", "outgoing_message"]

T = TypeVar("T")
F = TypeVar("F", bound=msgspec.Struct)

THREAD_PAGE = 200
"""Replies asked for per ``thread`` request (the most the server gives)."""


def build_frame(kind: Callable[..., F], **fields: Any) -> F:
    """A command frame, checked as the server will check it (types, lengths, no
    NUL or lone surrogate), so that a bad argument is refused here with
    ``bad_frame`` rather than closing the connection.

    Raises:
        RequestFailed: ``bad_frame``, saying which field.
    """
    try:
        frame = kind(**fields)
        return msgspec.convert(msgspec.to_builtins(frame), type(frame))
    except (ValueError, TypeError, msgspec.ValidationError) as exc:
        raise RequestFailed(ErrorCode.BAD_FRAME, f"not a valid request: {exc}") from None


def check_message(
    text: str,
    cid: str | None,
    reply_to: int | None,
    file_id: int | None,
    limits: wire.Limits | None,
) -> None:
    """Refuse, before it reaches the outbox, a message the server would refuse
    whatever happens (so that a queued message can only fail for a reason that
    depends on the server's state).

    Raises:
        RequestFailed: ``bad_frame``, ``empty_body``, ``body_too_long``.
    """
    if not text.strip() and file_id is None:
        raise RequestFailed(ErrorCode.EMPTY_BODY, "a message needs some text")
    limit = limits.max_body if limits else 16_384
    if len(text.rstrip()) > limit:
        raise RequestFailed(
            ErrorCode.BODY_TOO_LONG,
            f"a message has at most {limit} characters (this one has {len(text.rstrip())})",
        )
    build_frame(
        wire.Send,
        client_msg_id=cid or "x",
        body=text.rstrip(),
        room=1,
        reply_to=reply_to,
        file=file_id,
    )


def outgoing_message(state: State, entry: OutboxEntry) -> Message:
    """How a message still in the outbox shows: ``queued`` or ``sent`` (or
    ``failed``), with the quote of the message it answers when that is held."""
    room_id = entry.room_id if entry.epoch == state.epoch else None
    parent = (
        state.message(room_id, entry.reply_to)
        if room_id is not None and entry.reply_to is not None
        else None
    )
    return Message(
        room=room_id,
        seq=None,
        author=state.me,
        body=entry.body,
        ts=entry.created_at,
        client_msg_id=entry.client_msg_id,
        state=entry.state,
        target=entry.target,
        error=entry.error,
        reply_to=entry.reply_to,
        reply=reply_preview(parent) if parent is not None else None,
    )


class MessageActions:
    """Mixed into ``Client``, whose ``call``, ``state`` and read marks these use."""

    state: State
    _marks: dict[int, int]

    async def call(self, frame: msgspec.Struct, answer: type[T], *, retry: bool = True) -> T:
        raise NotImplementedError

    async def search(
        self, query: str, limit: int = 50, *, before_id: int | None = None
    ) -> list[Message]:
        """Messages of our rooms matching ``query`` (words and ``from:``, ``in:``,
        ``before:``, ``after:``, ``has:file``; docs/PROTOCOL.md), newest first; up
        to ``limit``, older than message id ``before_id`` when given.

        Raises:
            RequestFailed: ``query_invalid``, ``room_not_found``, ``not_member``,
                ``user_not_found``.
        """
        found: list[Message] = []
        cursor = before_id
        while len(found) < limit:
            ask = build_frame(
                wire.Search, query=query, limit=min(100, limit - len(found)), before_id=cursor
            )
            page = await self.call(ask, wire.SearchResults)
            found.extend(Message.from_info(info) for info in page.messages)
            if not page.more or not page.messages:
                break
            cursor = page.messages[-1].id
        return found

    async def edit(self, room_id: int, seq: int, body: str) -> None:
        """Replace the body of one of our messages (nobody else's, ever).

        Raises:
            RequestFailed: ``forbidden`` (not ours), ``message_not_found`` (unknown
                or deleted), ``empty_body``, ``body_too_long``, ``muted``.
        """
        if not body.strip():
            raise RequestFailed(ErrorCode.EMPTY_BODY, "a message needs some text")
        frame = build_frame(wire.Edit, room=room_id, seq=seq, body=body)
        await self.call(frame, wire.Ok)

    async def delete(self, room_id: int, seq: int) -> None:
        """Delete a message (ours, or anyone's in a room we moderate): a tombstone
        stays in its place.

        Raises:
            RequestFailed: ``forbidden``, ``message_not_found``.
        """
        await self.call(build_frame(wire.Delete, room=room_id, seq=seq), wire.Ok)

    async def react(self, room_id: int, seq: int, emoji: str, *, remove: bool = False) -> None:
        """Add (or ``remove``) our reaction: an emoji or its ``:shortcode:``.
        Repeating it is harmless (the server answers ``ok`` and changes nothing).

        Raises:
            RequestFailed: ``emoji_invalid``, ``too_many_reactions``,
                ``message_not_found``, ``muted``.
        """
        frame = build_frame(wire.React, room=room_id, seq=seq, emoji=emoji, remove=remove)
        await self.call(frame, wire.Ok)

    async def thread(self, room_id: int, seq: int) -> tuple[Message, list[Message]]:
        """A message and all its replies, oldest first (page after page). ``seq``
        may name a reply: the answer is then its parent's thread.

        Raises:
            RequestFailed: ``message_not_found``, ``not_member``.
        """
        replies: list[Message] = []
        after: int | None = None
        while True:
            ask = build_frame(wire.Thread, room=room_id, seq=seq, after=after, limit=THREAD_PAGE)
            page = await self.call(ask, wire.ThreadPage)
            parent = self.state.shown(page.parent)
            replies.extend(self.state.shown(info) for info in page.replies)
            if not page.more or not page.replies:
                return parent, replies
            after = page.replies[-1].seq

    async def set_notify(
        self, room_id: int, *, level: NotifyLevel | None = None, muted: bool | None = None
    ) -> None:
        """Our notification level for a room (``all``, ``mentions``, ``none``)
        and/or mute it; what is not given stays. The room changes when the server
        confirms (``RoomChanged``)."""
        if level is None and muted is None:
            return
        frame = build_frame(wire.SetNotify, room=room_id, level=level, muted=muted)
        await self.call(frame, wire.Ok)

    async def mark_unread(self, room_id: int, seq: int) -> None:
        """Move our read marker back so that ``seq`` is the first unread message
        (a read mark waiting to be sent is dropped: it would undo this)."""
        self._marks.pop(room_id, None)
        await self.call(build_frame(wire.MarkUnread, room=room_id, seq=seq), wire.Ok)
