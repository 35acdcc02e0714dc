"""Messages: batched, idempotent inserts with gap-free per-room seqs, and pages.

``add_batch`` stores many sends in one transaction (group commit): seqs are
allocated from ``rooms.latest_seq`` inside the same transaction that stores the
rows, so a seq exists only if its message does, and there are no gaps.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, replace

from tchat_server.storage.db import Database

__all__ = ["MessageRow", "MessageStore", "NewMessage"]


@dataclass(frozen=True, slots=True)
class NewMessage:
    room_id: int
    author_id: int
    client_msg_id: str
    body: str
    author_name: str
    mention_ids: tuple[int, ...] = ()


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


_COLUMNS = (
    "m.id, m.room_id, m.seq, m.author_id, u.name AS author, m.client_msg_id, m.body, m.created_at"
)


def _message(row: sqlite3.Row) -> MessageRow:
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
        next_id += 1
        existing[key] = stored
        results.append(stored)
        inserts.append(
            (stored.id, stored.room_id, seq, item.author_id, item.client_msg_id, item.body, now)
        )
        mentions.extend((uid, item.room_id, seq) for uid in item.mention_ids)
    if inserts:
        conn.executemany(
            "INSERT INTO messages(id, room_id, seq, author_id, client_msg_id, body, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
    return results


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
            f"SELECT {_COLUMNS} FROM k CROSS JOIN messages m "
            "ON m.author_id = k.a AND m.client_msg_id = k.c "
            "JOIN users u ON u.id = m.author_id",
            params,
        ):
            message = _message(row)
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

    async def page(
        self, room_id: int, *, before: int | None = None, after: int | None = None, limit: int = 50
    ) -> tuple[list[MessageRow], bool]:
        """Up to ``limit`` messages in ascending seq order, and whether more exist in
        that direction. ``after`` wins over ``before``; neither gives the newest."""
        base = f"SELECT {_COLUMNS} FROM messages m JOIN users u ON u.id = m.author_id WHERE m.room_id = ?"
        if after is not None:
            rows = await self._db.fetch_all(
                f"{base} AND m.seq > ? ORDER BY m.seq ASC LIMIT ?", (room_id, after, limit + 1)
            )
            more = len(rows) > limit
            return [_message(row) for row in rows[:limit]], more
        if before is not None:
            sql = f"{base} AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
            params: tuple[int, ...] = (room_id, before, limit + 1)
        else:
            sql = f"{base} ORDER BY m.seq DESC LIMIT ?"
            params = (room_id, limit + 1)
        rows = await self._db.fetch_all(sql, params)
        more = len(rows) > limit
        return [_message(row) for row in reversed(rows[:limit])], more

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
