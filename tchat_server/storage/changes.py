"""Changes to stored messages: edits, deletes (tombstones) and reactions.

Each change is one write transaction (one thread hop): check the message, change
the row, take the room's next change number (``rooms.latest_change``, copied to
``messages.change_seq``) and read the message back as it now is, so what is
announced is exactly what was committed. Refusals change nothing and take no
change number; so do no-ops (a repeated reaction, deleting a tombstone).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Literal

from tchat_server.storage.db import Database
from tchat_server.storage.message_rows import MessageRow, bump_change, read_full
from tchat_server.storage.moderation import AuditEntry, insert_audit

__all__ = ["ChangeStore", "Changed", "Outcome"]

Outcome = Literal["changed", "unchanged", "not_found", "forbidden", "too_many"]


@dataclass(frozen=True, slots=True)
class Changed:
    """What a change did; ``message`` (as it now is) only when ``changed``."""

    outcome: Outcome
    message: MessageRow | None = None


def _target(conn: sqlite3.Connection, room_id: int, seq: int) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT id, author_id, body, deleted FROM messages WHERE room_id = ? AND seq = ?",
        (room_id, seq),
    ).fetchone()
    return row


def _changed(conn: sqlite3.Connection, room_id: int, message_id: int) -> Changed:
    bump_change(conn, room_id, message_id)
    return Changed("changed", read_full(conn, "m.id = ?", (message_id,))[0])


def _edit(
    conn: sqlite3.Connection, room_id: int, seq: int, user_id: int, body: str, now: float
) -> Changed:
    row = _target(conn, room_id, seq)
    if row is None or row["deleted"]:
        return Changed("not_found")
    if row["author_id"] != user_id:
        return Changed("forbidden")
    if row["body"] == body:
        return Changed("unchanged")
    conn.execute("UPDATE messages SET body = ?, edited_at = ? WHERE id = ?", (body, now, row["id"]))
    return _changed(conn, room_id, row["id"])


def _delete(
    conn: sqlite3.Connection,
    room_id: int,
    seq: int,
    user_id: int,
    any_author: bool,
    now: float,
) -> Changed:
    row = _target(conn, room_id, seq)
    if row is None:
        return Changed("not_found")
    if row["author_id"] != user_id and not any_author:
        return Changed("forbidden")
    if row["deleted"]:
        return Changed("unchanged")
    # The body update also takes the text out of the full-text index (trigger).
    conn.execute("UPDATE messages SET body = '', deleted = 1 WHERE id = ?", (row["id"],))
    conn.execute("DELETE FROM reactions WHERE message_id = ?", (row["id"],))
    # A deleted message no longer counts as a mention of anyone.
    conn.execute("DELETE FROM mentions WHERE room_id = ? AND seq = ?", (room_id, seq))
    if row["author_id"] != user_id:
        # A moderator's delete is audited in the same transaction as the delete.
        entry = AuditEntry(user_id, "delete", room_id, row["author_id"], {"seq": seq})
        insert_audit(conn, entry, now)
    return _changed(conn, room_id, row["id"])


def _react(
    conn: sqlite3.Connection,
    room_id: int,
    seq: int,
    user_id: int,
    emoji: str,
    remove: bool,
    max_emoji: int,
    now: float,
) -> Changed:
    row = _target(conn, room_id, seq)
    if row is None or row["deleted"]:
        return Changed("not_found")
    message_id = row["id"]
    if remove:
        cursor = conn.execute(
            "DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?",
            (message_id, emoji, user_id),
        )
        if cursor.rowcount == 0:
            return Changed("unchanged")
        return _changed(conn, room_id, message_id)
    mine, present, distinct = conn.execute(
        "SELECT coalesce(max(emoji = ?1 AND user_id = ?2), 0), coalesce(max(emoji = ?1), 0), "
        "count(DISTINCT emoji) FROM reactions WHERE message_id = ?3",
        (emoji, user_id, message_id),
    ).fetchone()
    if mine:
        return Changed("unchanged")
    if not present and distinct >= max_emoji:
        return Changed("too_many")
    conn.execute(
        "INSERT INTO reactions(message_id, emoji, user_id, created_at) VALUES (?, ?, ?, ?)",
        (message_id, emoji, user_id, now),
    )
    return _changed(conn, room_id, message_id)


class ChangeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def edit(self, room_id: int, seq: int, user_id: int, body: str) -> Changed:
        """Replace the body of the user's own message (``not_found`` for a tombstone).

        Raises:
            StorageUnavailable: nothing was changed.
        """
        now = time.time()
        return await self._db.run_write(lambda conn: _edit(conn, room_id, seq, user_id, body, now))

    async def delete(self, room_id: int, seq: int, user_id: int, *, any_author: bool) -> Changed:
        """Make a message a tombstone: the user's own, or anyone's with ``any_author``."""
        now = time.time()
        return await self._db.run_write(
            lambda conn: _delete(conn, room_id, seq, user_id, any_author, now)
        )

    async def author_of(self, room_id: int, seq: int) -> int | None:
        """Who wrote a message (None: no such message); a message's author never changes."""
        row = await self._db.fetch_one(
            "SELECT author_id FROM messages WHERE room_id = ? AND seq = ?", (room_id, seq)
        )
        return int(row[0]) if row is not None else None

    async def react(
        self, room_id: int, seq: int, user_id: int, emoji: str, *, remove: bool, max_emoji: int
    ) -> Changed:
        """Add or take back the user's reaction (at most ``max_emoji`` distinct emoji)."""
        now = time.time()
        return await self._db.run_write(
            lambda conn: _react(conn, room_id, seq, user_id, emoji, remove, max_emoji, now)
        )
