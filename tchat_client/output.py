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
        }
    )


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


def message_text(message: Message, *, raw: bool = False) -> str:
    """``2024-05-01 12:00:03 <alice> text``; later lines of a body are indented.

    ``raw`` leaves the body and name as they came (``tchat history --raw``): escape
    sequences then reach the terminal, which executes them.
    """
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(message.ts))
    show = (lambda text: text) if raw else visible
    lines = show(message.body).split("\n")
    head = f"{stamp} <{show(message.author)}> {lines[0]}"
    return "\n".join([head, *(f"    {line}" for line in lines[1:])])


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
