"""Rows of the client cache as the client's models, and back.

The cache (``cache.py``) keeps a message's reply quote, reactions and file card
as JSON columns: they are read with the message and never queried. A value that
does not parse (a damaged file: it is only a cache) reads as absent.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from tchat_client.core.models import FileCard, Message, ReactionCount, ReplyPreview, Room

__all__ = ["message_from_row", "message_to_row", "room_from_row"]


def room_from_row(row: sqlite3.Row) -> Room:
    return Room(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        topic=row["topic"],
        member_count=row["member_count"],
        latest_seq=row["latest_seq"],
        last_read_seq=row["last_read_seq"],
        unread=row["unread"],
        mentions=row["mentions"],
        dm_user=row["dm_user"],
        others_read_seq=row["others_read_seq"],
        latest_change=row["latest_change"],
        notify=row["notify"] if row["notify"] in ("all", "mentions", "none") else "all",
        muted=bool(row["muted"]),
        role=row["role"] if row["role"] in ("owner", "moderator", "member") else "member",
        slow_mode=row["slow_mode"],
        locked=bool(row["locked"]),
        muted_until=row["muted_until"],
    )


def _load(text: str | None) -> Any:
    """A JSON column; a damaged value reads as absent (it is only a cache)."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def message_from_row(row: sqlite3.Row) -> Message:
    reply = _load(row["reply"])
    card = _load(row["file"])
    reactions = _load(row["reactions"]) or []
    try:
        return Message(
            room=row["room"],
            seq=row["seq"],
            id=row["id"],
            author=row["author"],
            body=row["body"],
            ts=row["ts"],
            client_msg_id=row["client_msg_id"],
            reply_to=row["reply_to"],
            reply=ReplyPreview(**reply) if isinstance(reply, dict) else None,
            reply_count=row["reply_count"],
            edited=row["edited"],
            deleted=bool(row["deleted"]),
            reactions=tuple(ReactionCount(emoji, tuple(users)) for emoji, users in reactions),
            file=FileCard(**card) if isinstance(card, dict) else None,
            change=row["change"],
        )
    except (TypeError, ValueError):
        # A JSON column of an unexpected shape: show the message without extras.
        return Message(
            room=row["room"],
            seq=row["seq"],
            id=row["id"],
            author=row["author"],
            body=row["body"],
            ts=row["ts"],
            client_msg_id=row["client_msg_id"],
            deleted=bool(row["deleted"]),
        )


def message_to_row(m: Message) -> tuple[Any, ...]:
    reply = m.reply
    card = m.file
    return (
        m.room,
        m.seq,
        m.id,
        m.author,
        m.body,
        m.ts,
        m.client_msg_id,
        m.reply_to,
        _dump(
            {
                "seq": reply.seq,
                "author": reply.author,
                "snippet": reply.snippet,
                "deleted": reply.deleted,
            }
        )
        if reply is not None
        else None,
        m.reply_count,
        m.edited,
        int(m.deleted),
        _dump([[r.emoji, list(r.users)] for r in m.reactions]) if m.reactions else None,
        _dump(
            {
                "id": card.id,
                "name": card.name,
                "size": card.size,
                "mime": card.mime,
                "sha256": card.sha256,
            }
        )
        if card is not None
        else None,
        m.change,
    )
