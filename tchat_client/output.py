"""How the CLI prints: one line per message (text or JSON), room and outbox lists.

Text output passes every string from the wire through ``sanitize.visible`` (a
message must not be able to drive the terminal); JSON output is exact, and one
object per line for messages so that ``tail -f --json`` can be piped into tools.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from shared import frames as wire
from tchat_client.core.models import Message, Room
from tchat_client.core.outbox import OutboxEntry
from tchat_client.sanitize import visible, visible_line

__all__ = [
    "ack_json",
    "file_size",
    "message_extras_json",
    "message_json",
    "message_text",
    "outbox_json",
    "outbox_text",
    "rooms_json",
    "rooms_text",
    "search_text",
]

_KIND_ORDER = {"channel": 0, "group": 1, "dm": 2}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def message_json(message: Message, room: Room | None = None) -> str:
    return _json(
        {
            "room": message.room,
            "room_name": room.label if room else message.target,
            "seq": message.seq,
            "id": message.id,
            "author": message.author,
            "body": message.body,
            "ts": message.ts,
            "client_msg_id": message.client_msg_id,
            **message_extras_json(message),
        }
    )


def message_extras_json(message: Message) -> dict[str, Any]:
    """The fields a message gained with issue #5 (replies, edits, deletes,
    reactions, files), for ``--json``."""
    reply, card = message.reply, message.file
    return {
        "reply_to": message.reply_to,
        "reply": {
            "seq": reply.seq,
            "author": reply.author,
            "snippet": reply.snippet,
            "deleted": reply.deleted,
        }
        if reply is not None
        else None,
        "reply_count": message.reply_count,
        "edited": message.edited,
        "deleted": message.deleted,
        "reactions": [
            {"emoji": r.emoji, "count": r.count, "users": list(r.users)} for r in message.reactions
        ],
        "file": {
            "id": card.id,
            "name": card.name,
            "size": card.size,
            "mime": card.mime,
            "sha256": card.sha256,
        }
        if card is not None
        else None,
        "change": message.change,
    }


def ack_json(ack: wire.Ack, room: Room | None) -> str:
    return _json(
        {
            "room": ack.room,
            "room_name": room.label if room else None,
            "seq": ack.seq,
            "id": ack.id,
            "ts": ack.ts,
            "client_msg_id": ack.client_msg_id,
            "duplicate": ack.duplicate,
        }
    )


def message_text(message: Message, *, raw: bool = False, quote: bool = True) -> str:
    """``2024-05-01 12:00:03 #12 <alice> text``; later lines of a body are indented,
    then (indented too) the quote of the message it answers (``↳ re #3 bob:
    snippet``; not with ``quote=False``), its file card (``📎 name (size)``), its
    reactions (``👍 2  🎉 1``) and its reply count. ``(edited)`` ends an edited
    body; a deleted message is ``[deleted]``.

    ``raw`` leaves the body and name as they came (``tchat history --raw``): escape
    sequences then reach the terminal, which executes them.
    """
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(message.ts))
    show = (lambda text: text) if raw else visible
    number = f"#{message.seq} " if message.seq is not None else ""
    body = "[deleted]" if message.deleted else show(message.body)
    if message.edited is not None and not message.deleted:
        body += " (edited)"
    lines = body.split("\n")
    head = f"{stamp} {number}<{show(message.author)}> {lines[0]}"
    extras = [] if message.deleted else _extras(message, quote)
    return "\n".join([head, *(f"    {line}" for line in lines[1:] + extras)])


def _extras(message: Message, quote: bool) -> list[str]:
    """The lines under a message's body: reply quote, file card, reactions, replies."""
    lines = []
    reply = message.reply
    if quote and reply is not None:
        said = "[deleted]" if reply.deleted else visible_line(reply.snippet)
        lines.append(f"↳ re #{reply.seq} {visible_line(reply.author)}: {said}")
    elif quote and message.reply_to is not None:
        lines.append(f"↳ re #{message.reply_to}")
    if message.file is not None:
        lines.append(f"📎 {visible_line(message.file.name)} ({file_size(message.file.size)})")
    if message.reactions:
        lines.append("  ".join(f"{visible_line(r.emoji)} {r.count}" for r in message.reactions))
    if message.reply_count:
        plural = "y" if message.reply_count == 1 else "ies"
        lines.append(f"💬 {message.reply_count} repl{plural}")
    return lines


def file_size(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``25 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{size} B"


def search_text(message: Message, room_label: str) -> str:
    """One search result on one line: ``#room  author  2024-05-01 12:00  body``
    (newlines in the body show as ``␤``; controls as visible symbols)."""
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(message.ts))
    return "  ".join(
        (
            visible_line(room_label),
            visible_line(message.author),
            stamp,
            visible_line(message.body),
        )
    )


def _sorted(rooms: Iterable[Room]) -> list[Room]:
    return sorted(rooms, key=lambda r: (_KIND_ORDER.get(r.kind, 3), r.label.casefold()))


def rooms_json(rooms: Iterable[Room]) -> str:
    return json.dumps(
        [
            {
                "id": room.id,
                "name": room.name,
                "label": room.label,
                "kind": room.kind,
                "topic": room.topic,
                "unread": room.unread,
                "mentions": room.mentions,
                "members": room.member_count,
                "latest_seq": room.latest_seq,
                "dm_user": room.dm_user,
                "last_read_seq": room.last_read_seq,
                "notify": room.notify,
                "muted": room.muted,
                "role": room.role,
            }
            for room in _sorted(rooms)
        ],
        ensure_ascii=False,
        indent=2,
    )


def rooms_text(rooms: Iterable[Room]) -> str:
    rows = [
        (visible(room.label), room.kind, str(room.unread), str(room.mentions), visible(room.topic))
        for room in _sorted(rooms)
    ]
    header = ("ROOM", "KIND", "UNREAD", "MENTIONS", "TOPIC")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    return "\n".join(
        "  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])), row[4]]).rstrip()
        for row in [header, *rows]
    )


def outbox_json(entries: Iterable[OutboxEntry]) -> str:
    return json.dumps(
        [
            {
                "client_msg_id": e.client_msg_id,
                "target": e.target,
                "state": e.state,
                "attempts": e.attempts,
                "body": e.body,
                "created_at": e.created_at,
                "error_code": e.error_code,
                "error": e.error,
            }
            for e in entries
        ],
        ensure_ascii=False,
        indent=2,
    )


def outbox_text(entries: Iterable[OutboxEntry]) -> str:
    lines = []
    for e in entries:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.created_at))
        preview = visible(e.body.replace("\n", " "))
        preview = preview if len(preview) <= 60 else preview[:59] + "…"
        why = f" ({visible(e.error)})" if e.error else ""
        lines.append(f"{e.client_msg_id}  {stamp}  {e.state}{why}  {visible(e.target)}  {preview}")
    return "\n".join(lines)
