"""Messages: batched, idempotent inserts with gap-free per-room seqs, and pages.

``add_batch`` stores many sends in one transaction (group commit): seqs are
allocated from ``rooms.latest_seq`` inside the same transaction that stores the
rows, so a seq exists only if its message does, and there are no gaps. A reply
bumps its parent's reply count (and change number) in that same transaction.

Every read returns a message as it is now (edits, tombstone, reply quote, reply
count, reactions, file card): one joined query for the rows and one for the
reactions of the whole page, never a query per message.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tchat_server.storage.db import Database
from tchat_server.storage.message_rows import (
    COLUMNS,
    SNIPPET,
    FileCard,
    MessageRow,
    ParentRef,
    basic_row,
    bump_change,
    read_full,
    snippet,
)

__all__ = ["MessageRow", "MessageStore", "NewMessage"]


@dataclass(frozen=True, slots=True)
class NewMessage:
    room_id: int
    author_id: int
    client_msg_id: str
    body: str
    author_name: str
    mention_ids: tuple[int, ...] = ()
    reply_to: int | None = None
    """The top parent's seq (the service resolved a reply to a reply)."""
    file_id: int | None = None
    mention_all: bool = False
    """``@room``: every member of the room (but the author) is mentioned."""


def _add_batch(conn: sqlite3.Connection, items: list[NewMessage], now: float) -> list[MessageRow]:
    """``add_batch``'s statements, run on the writer's thread inside its transaction."""
    existing = _existing(conn, items)
    rooms = sorted({item.room_id for item in items})
    marks = ",".join("?" * len(rooms))
    latest = {
        row[0]: row[1]
        for row in conn.execute(f"SELECT id, latest_seq FROM rooms WHERE id IN ({marks})", rooms)
    }
    row = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()
    next_id = int(row[0]) + 1 if row else 1

    results: list[MessageRow] = []
    inserts: list[tuple[object, ...]] = []
    mentions: list[tuple[int, int, int]] = []
    everyone: list[tuple[int, int, int]] = []
    replies: list[int] = []  # indexes in results
    for item in items:
        key = (item.author_id, item.client_msg_id)
        if key in existing:
            results.append(replace(existing[key], duplicate=True))
            continue
        seq = latest[item.room_id] + 1
        latest[item.room_id] = seq
        stored = MessageRow(
            id=next_id,
            room_id=item.room_id,
            seq=seq,
            author_id=item.author_id,
            author=item.author_name,
            client_msg_id=item.client_msg_id,
            body=item.body,
            created_at=now,
        )
        if item.reply_to is not None or item.file_id is not None:
            # Only replies and file cards pay for these reads: a plain send does not.
            stored = _with_extras(conn, stored, item)
            if stored.reply is not None:
                replies.append(len(results))
        next_id += 1
        existing[key] = stored
        results.append(stored)
        inserts.append(
            (
                stored.id,
                stored.room_id,
                seq,
                item.author_id,
                item.client_msg_id,
                item.body,
                now,
                stored.reply_to,
                stored.file.id if stored.file is not None else None,
            )
        )
        mentions.extend((uid, item.room_id, seq) for uid in item.mention_ids)
        if item.mention_all:
            everyone.append((seq, item.room_id, item.author_id))
    if inserts:
        conn.executemany(
            "INSERT INTO messages(id, room_id, seq, author_id, client_msg_id, body, "
            "created_at, reply_to, file_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        conn.executemany(
            "UPDATE rooms SET latest_seq = ? WHERE id = ?",
            [(seq, room_id) for room_id, seq in latest.items()],
        )
        # Posting reads the room up to one's own message, as Slack does.
        conn.executemany(
            "UPDATE members SET last_read_seq = max(last_read_seq, ?) "
            "WHERE room_id = ? AND user_id = ?",
            [(row[2], row[1], row[3]) for row in inserts],
        )
    if mentions:
        conn.executemany(
            "INSERT OR IGNORE INTO mentions(user_id, room_id, seq) SELECT ?1, ?2, ?3 "
            "WHERE EXISTS (SELECT 1 FROM members WHERE room_id = ?2 AND user_id = ?1)",
            mentions,
        )
    if everyone:
        conn.executemany(
            "INSERT OR IGNORE INTO mentions(user_id, room_id, seq) "
            "SELECT user_id, room_id, ?1 FROM members WHERE room_id = ?2 AND user_id != ?3",
            everyone,
        )
    if replies:
        _count_replies(conn, results, replies)
    return results


def _with_extras(conn: sqlite3.Connection, stored: MessageRow, item: NewMessage) -> MessageRow:
    """A reply's quote of its parent and a message's file card, read in the transaction."""
    reply = None
    if item.reply_to is not None:
        parent = conn.execute(
            f"SELECT p.seq, u.name, substr(p.body, 1, {SNIPPET}) AS body, p.deleted "
            "FROM messages p JOIN users u ON u.id = p.author_id WHERE p.room_id = ? AND p.seq = ?",
            (item.room_id, item.reply_to),
        ).fetchone()
        if parent is not None:
            deleted = bool(parent["deleted"])
            reply = ParentRef(
                parent["seq"], parent["name"], "" if deleted else snippet(parent["body"]), deleted
            )
    file = None
    if item.file_id is not None:
        card = conn.execute(
            "SELECT id, name, size, mime, sha256 FROM files WHERE id = ?", (item.file_id,)
        ).fetchone()
        if card is not None:  # checked before the send was queued; never fail the batch
            file = FileCard(card[0], card[1], card[2], card[3], card[4])
    return replace(
        stored, reply_to=reply.seq if reply is not None else None, reply=reply, file=file
    )


def _count_replies(conn: sqlite3.Connection, results: list[MessageRow], replies: list[int]) -> None:
    """Each parent's reply count +1 (a change of the parent); the last reply to each
    parent in the batch carries the parent as it now is."""
    last_reply: dict[int, int] = {}  # parent id -> index in results
    for index in replies:
        reply = results[index]
        row = conn.execute(
            "UPDATE messages SET reply_count = reply_count + 1 WHERE room_id = ? AND seq = ? "
            "RETURNING id",
            (reply.room_id, reply.reply_to),
        ).fetchone()
        bump_change(conn, reply.room_id, row[0])
        last_reply[row[0]] = index
    ids = list(last_reply)
    marks = ",".join("?" * len(ids))
    for parent in read_full(conn, f"m.id IN ({marks})", ids):
        index = last_reply[parent.id]
        results[index] = replace(results[index], updated_parent=parent)


def _existing(
    conn: sqlite3.Connection, items: list[NewMessage]
) -> dict[tuple[int, str], MessageRow]:
    keys = list({(item.author_id, item.client_msg_id) for item in items})
    found: dict[tuple[int, str], MessageRow] = {}
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        values = ",".join("(?, ?)" for _ in chunk)
        params = [part for key in chunk for part in key]
        for row in conn.execute(
            # A join from the keys, so each is one search of the (author_id,
            # client_msg_id) unique index: the row-value `IN (VALUES ...)` form made
            # SQLite scan the whole messages table once per batch.
            f"WITH k(a, c) AS (VALUES {values}) "
            f"SELECT {COLUMNS} FROM k CROSS JOIN messages m "
            "ON m.author_id = k.a AND m.client_msg_id = k.c "
            "JOIN users u ON u.id = m.author_id",
            params,
        ):
            message = basic_row(row)
            found[(message.author_id, message.client_msg_id)] = message
    return found


class MessageStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_batch(self, items: list[NewMessage]) -> list[MessageRow]:
        """Store a batch in one transaction; one result per item, in order.

        An item whose (author, client_msg_id) is already stored, or appears earlier in
        the batch, stores nothing and returns the original row with ``duplicate``.
        The whole transaction runs in one call on the writer's thread (one thread hop
        rather than one per statement).

        Raises:
            StorageUnavailable: nothing was stored.
        """
        now = time.time()
        return await self._db.run_write(lambda conn: _add_batch(conn, items, now))

    async def _read(self, where: str, params: Sequence[object]) -> list[MessageRow]:
        """Current messages matching ``where``: two queries whatever their number,
        in one thread hop and one snapshot."""
        return await self._db.run_read(lambda conn: read_full(conn, where, params))

    async def page(
        self, room_id: int, *, before: int | None = None, after: int | None = None, limit: int = 50
    ) -> tuple[list[MessageRow], bool]:
        """Up to ``limit`` messages in ascending seq order, and whether more exist in
        that direction. ``after`` wins over ``before``; neither gives the newest."""
        if after is not None:
            rows = await self._read(
                "m.room_id = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?",
                (room_id, after, limit + 1),
            )
            return rows[:limit], len(rows) > limit
        if before is not None:
            where = "m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
            params: tuple[int, ...] = (room_id, before, limit + 1)
        else:
            where = "m.room_id = ? ORDER BY m.seq DESC LIMIT ?"
            params = (room_id, limit + 1)
        rows = await self._read(where, params)
        return list(reversed(rows[:limit])), len(rows) > limit

    async def get(self, room_id: int, seq: int) -> MessageRow | None:
        rows = await self._read("m.room_id = ? AND m.seq = ?", (room_id, seq))
        return rows[0] if rows else None

    async def replies(
        self, room_id: int, parent_seq: int, after: int | None, limit: int
    ) -> tuple[list[MessageRow], bool]:
        """A page of a message's replies, ascending seq, and whether more follow."""
        rows = await self._read(
            "m.room_id = ? AND m.reply_to = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?",
            (room_id, parent_seq, after or 0, limit + 1),
        )
        return rows[:limit], len(rows) > limit

    async def current(self, rows: list[MessageRow]) -> list[MessageRow]:
        """The same messages, in the same order, as they are now (search results)."""
        if not rows:
            return []
        ids = [row.id for row in rows]
        marks = ",".join("?" * len(ids))
        found = {row.id: row for row in await self._read(f"m.id IN ({marks})", ids)}
        return [found[row.id] for row in rows if row.id in found]

    async def changed_since(
        self, room_id: int, cursor: int, max_seq: int, cap: int
    ) -> list[MessageRow] | None:
        """Messages up to ``max_seq`` changed after change number ``cursor``, in change
        order; None when more than ``cap`` did."""
        rows = await self._read(
            # `change_seq > 0` lets SQLite use the partial index messages_changes.
            "m.room_id = ? AND m.change_seq > 0 AND m.change_seq > ? AND m.seq <= ? "
            "ORDER BY m.change_seq ASC LIMIT ?",
            (room_id, cursor, max_seq, cap + 1),
        )
        return None if len(rows) > cap else rows

    async def reply_target(self, room_id: int, seq: int) -> int | None:
        """The seq a reply to message ``seq`` attaches to (its top parent: threads are
        one level deep), or None if there is no such message or it is deleted."""
        row = await self._db.fetch_one(
            "SELECT reply_to, deleted FROM messages WHERE room_id = ? AND seq = ?", (room_id, seq)
        )
        if row is None or row["deleted"]:
            return None
        return seq if row["reply_to"] is None else int(row["reply_to"])

    async def is_stored(self, author_id: int, client_msg_id: str) -> bool:
        """Whether a send with that client id is stored already (a repeat)."""
        row = await self._db.fetch_one(
            "SELECT 1 FROM messages WHERE author_id = ? AND client_msg_id = ?",
            (author_id, client_msg_id),
        )
        return row is not None

    async def set_created_at(self, message_id: int, created_at: float) -> None:
        """Backdate a message (imports and the demo's seeded history)."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE messages SET created_at = ? WHERE id = ?", (created_at, message_id)
            )

    async def count(self, room_id: int | None = None) -> int:
        if room_id is None:
            row = await self._db.fetch_one("SELECT count(*) FROM messages")
        else:
            row = await self._db.fetch_one(
                "SELECT count(*) FROM messages WHERE room_id = ?", (room_id,)
            )
        return int(row[0]) if row else 0
