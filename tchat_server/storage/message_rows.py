"""A stored message as every read returns it: the row, its reply quote, reactions
and file card, read with one joined query and one reactions query per page.

Shared by the message store (sends, pages, threads, resume) and the change store
(edits, deletes, reactions), so both return exactly the same current state.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COLUMNS",
    "FULL_SELECT",
    "SNIPPET",
    "FileCard",
    "MessageRow",
    "ParentRef",
    "Reactions",
    "basic_row",
    "bump_change",
    "full_row",
    "group_reactions",
    "reaction_query",
    "read_full",
    "snippet",
]

SNIPPET = 120
"""Characters of a parent's body quoted by a reply."""

Reactions = tuple[tuple[str, tuple[str, ...]], ...]
"""Per emoji (in the order first used), the names of who reacted (in order)."""


@dataclass(frozen=True, slots=True)
class ParentRef:
    """The message a reply answers, as the reply quotes it."""

    seq: int
    author: str
    snippet: str
    deleted: bool


@dataclass(frozen=True, slots=True)
class FileCard:
    id: int
    name: str
    size: int
    mime: str
    sha256: str


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    room_id: int
    seq: int
    author_id: int
    author: str
    client_msg_id: str
    body: str
    created_at: float
    duplicate: bool = False
    """True when this row was stored by an earlier send with the same client id."""
    reply_to: int | None = None
    reply_count: int = 0
    edited_at: float | None = None
    deleted: bool = False
    change: int = 0
    reply: ParentRef | None = None
    reactions: Reactions = ()
    file: FileCard | None = None
    updated_parent: MessageRow | None = None
    """For a reply just stored: its parent as it now is (to announce the new count)."""


COLUMNS = (
    "m.id, m.room_id, m.seq, m.author_id, u.name AS author, m.client_msg_id, m.body, m.created_at"
)

FULL_SELECT = (
    f"SELECT {COLUMNS}, m.reply_to, m.reply_count, m.edited_at, m.deleted, m.change_seq, "
    f"p.seq AS p_seq, pu.name AS p_author, substr(p.body, 1, {SNIPPET}) AS p_body, "
    "p.deleted AS p_deleted, f.id AS f_id, f.name AS f_name, f.size AS f_size, "
    "f.mime AS f_mime, f.sha256 AS f_sha256 "
    "FROM messages m JOIN users u ON u.id = m.author_id "
    "LEFT JOIN messages p ON m.reply_to IS NOT NULL AND p.room_id = m.room_id "
    "AND p.seq = m.reply_to "
    "LEFT JOIN users pu ON pu.id = p.author_id "
    "LEFT JOIN files f ON f.id = m.file_id "
)
"""Every column a current message needs; append ``WHERE ...``."""


def snippet(body: str) -> str:
    """One line of at most ``SNIPPET`` characters."""
    return " ".join(body[:SNIPPET].splitlines())


def basic_row(row: sqlite3.Row) -> MessageRow:
    return MessageRow(
        id=row["id"],
        room_id=row["room_id"],
        seq=row["seq"],
        author_id=row["author_id"],
        author=row["author"],
        client_msg_id=row["client_msg_id"],
        body=row["body"],
        created_at=row["created_at"],
    )


def full_row(row: Sequence[Any], reactions: dict[int, Reactions]) -> MessageRow:
    """A ``FULL_SELECT`` row as a plain tuple (by position: building ~50 rows by
    column name cost more than the query itself)."""
    (mid, room_id, seq, author_id, author, cid, body, created_at,
     reply_to, reply_count, edited_at, deleted, change,
     p_seq, p_author, p_body, p_deleted, f_id) = row[:18]  # fmt: skip
    if change == 0 and reply_to is None and f_id is None:
        # Never changed, no quote, no file: most messages.
        return MessageRow(mid, room_id, seq, author_id, author, cid, body, created_at)
    reply = None
    if p_seq is not None:
        reply = ParentRef(p_seq, p_author, "" if p_deleted else snippet(p_body), bool(p_deleted))
    file = None
    if f_id is not None and not deleted:
        file = FileCard(f_id, row[18], row[19], row[20], row[21])
    return MessageRow(
        mid,
        room_id,
        seq,
        author_id,
        author,
        cid,
        body,
        created_at,
        reply_to=reply_to,
        reply_count=reply_count,
        edited_at=edited_at,
        deleted=bool(deleted),
        change=change,
        reply=reply,
        reactions=reactions.get(mid, ()),
        file=file,
    )


def reaction_query(ids: Sequence[int]) -> tuple[str, list[int]]:
    marks = ",".join("?" * len(ids))
    return (
        "SELECT r.message_id, r.emoji, u.name FROM reactions r JOIN users u ON u.id = r.user_id "
        f"WHERE r.message_id IN ({marks}) ORDER BY r.message_id, r.created_at, r.user_id",
        list(ids),
    )


def group_reactions(rows: Iterable[Sequence[object]]) -> dict[int, Reactions]:
    grouped: dict[int, dict[str, list[str]]] = {}
    for message_id, emoji, name in rows:
        grouped.setdefault(message_id, {}).setdefault(emoji, []).append(name)  # type: ignore[arg-type]
    return {
        message_id: tuple((emoji, tuple(users)) for emoji, users in by_emoji.items())
        for message_id, by_emoji in grouped.items()
    }


def read_full(conn: sqlite3.Connection, where: str, params: Sequence[object]) -> list[MessageRow]:
    """Current messages matching ``where`` (SQL after ``WHERE``), on a connection's
    own thread (in a transaction): at most two statements whatever the number of rows."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples
    rows = cursor.execute(FULL_SELECT + "WHERE " + where, params).fetchall()
    reactions: dict[int, Reactions] = {}
    # Only a changed message can hold reactions (each took a change number).
    ids = [row[0] for row in rows if row[12] and not row[11]]
    if ids:
        reactions = group_reactions(conn.execute(*reaction_query(ids)).fetchall())
    return [full_row(row, reactions) for row in rows]


def bump_change(conn: sqlite3.Connection, room_id: int, message_id: int) -> int:
    """Take the room's next change number for a message; returns it."""
    row = conn.execute(
        "UPDATE rooms SET latest_change = latest_change + 1 WHERE id = ? RETURNING latest_change",
        (room_id,),
    ).fetchone()
    change = int(row[0])
    conn.execute("UPDATE messages SET change_seq = ? WHERE id = ?", (change, message_id))
    return change
