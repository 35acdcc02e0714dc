"""The local cache: rooms, recent messages per room, the resume point and the epoch.

It lets the client show something at once, even offline, and tells the server
where to resume. ``synced_seq`` of a room is the resume point: every message up
to it is either held here or was already gone when we started following the
room; it only ever advances over a contiguous run of seqs, so a gap is never
skipped silently. The epoch names the server database the seqs belong to: when
the server reports another one, everything here is void and is wiped.

A cache, not a record: ``synchronous=NORMAL`` (survives a crash of the client,
maybe not a power cut) and the oldest messages are trimmed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from tchat_client.core.localdb import open_local_db
from tchat_client.core.models import Message, Room

__all__ = ["Cache"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rooms (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    topic           TEXT NOT NULL DEFAULT '',
    member_count    INTEGER NOT NULL DEFAULT 0,
    latest_seq      INTEGER NOT NULL DEFAULT 0,
    last_read_seq   INTEGER NOT NULL DEFAULT 0,
    unread          INTEGER NOT NULL DEFAULT 0,
    mentions        INTEGER NOT NULL DEFAULT 0,
    dm_user         TEXT,
    others_read_seq INTEGER NOT NULL DEFAULT 0,
    synced_seq      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    room          INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    id            INTEGER,
    author        TEXT NOT NULL,
    body          TEXT NOT NULL,
    ts            REAL NOT NULL,
    client_msg_id TEXT,
    PRIMARY KEY (room, seq)
) WITHOUT ROWID;
"""

_ROOM_FIELDS = (
    "id, name, kind, topic, member_count, latest_seq, last_read_seq, unread, mentions, "
    "dm_user, others_read_seq"
)

KEEP_PER_ROOM = 1000
"""Messages kept per room; older ones are fetched again when scrolled to."""


def _room(row: sqlite3.Row) -> Room:
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
    )


def _message(row: sqlite3.Row) -> Message:
    return Message(
        room=row["room"],
        seq=row["seq"],
        id=row["id"],
        author=row["author"],
        body=row["body"],
        ts=row["ts"],
        client_msg_id=row["client_msg_id"],
    )


class Cache:
    """The cache file of one profile (stdlib sqlite3; each write commits at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_local_db(path, "NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -------------------------------------------------------------- meta

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def epoch(self) -> str | None:
        return self._meta("epoch")

    def set_identity(self, epoch: str, user: str) -> None:
        self._set_meta("epoch", epoch)
        self._set_meta("user", user)

    @property
    def user(self) -> str | None:
        return self._meta("user")

    def wipe(self) -> None:
        """Forget everything (another server database, or a logout)."""
        self._db.executescript(
            "BEGIN; DELETE FROM meta; DELETE FROM rooms; DELETE FROM messages; COMMIT;"
        )

    # ------------------------------------------------------------- rooms

    def rooms(self) -> list[Room]:
        rows = self._db.execute(f"SELECT {_ROOM_FIELDS} FROM rooms ORDER BY id").fetchall()
        return [_room(row) for row in rows]

    def save_room(self, room: Room) -> None:
        """Insert or update a room; a new room starts following at its latest seq."""
        self._db.execute(
            "INSERT INTO rooms(id, name, kind, topic, member_count, latest_seq, last_read_seq, "
            "unread, mentions, dm_user, others_read_seq, synced_seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "name = excluded.name, kind = excluded.kind, topic = excluded.topic, "
            "member_count = excluded.member_count, latest_seq = excluded.latest_seq, "
            "last_read_seq = excluded.last_read_seq, unread = excluded.unread, "
            "mentions = excluded.mentions, dm_user = excluded.dm_user, "
            "others_read_seq = excluded.others_read_seq",
            (
                room.id,
                room.name,
                room.kind,
                room.topic,
                room.member_count,
                room.latest_seq,
                room.last_read_seq,
                room.unread,
                room.mentions,
                room.dm_user,
                room.others_read_seq,
                room.latest_seq,
            ),
        )

    def replace_rooms(self, rooms: Iterable[Room]) -> None:
        """The room list as the server sent it: rooms not in it are dropped."""
        keep = list(rooms)
        self._db.execute("BEGIN")
        try:
            for room in keep:
                self.save_room(room)
            marks = ",".join("?" * len(keep)) or "NULL"
            ids = [room.id for room in keep]
            self._db.execute(f"DELETE FROM rooms WHERE id NOT IN ({marks})", ids)
            self._db.execute(f"DELETE FROM messages WHERE room NOT IN ({marks})", ids)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def drop_room(self, room_id: int) -> None:
        self._db.execute("DELETE FROM rooms WHERE id = ?", (room_id,))
        self._db.execute("DELETE FROM messages WHERE room = ?", (room_id,))

    def synced(self) -> dict[int, int]:
        """Room id -> resume point, for the hello."""
        rows = self._db.execute("SELECT id, synced_seq FROM rooms").fetchall()
        return {int(row[0]): int(row[1]) for row in rows}

    def synced_seq(self, room_id: int) -> int | None:
        row = self._db.execute("SELECT synced_seq FROM rooms WHERE id = ?", (room_id,)).fetchone()
        return int(row[0]) if row else None

    def restart_room(self, room_id: int, seq: int) -> None:
        """Drop a room's messages and follow it from ``seq`` (too many were missed)."""
        self._db.execute("DELETE FROM messages WHERE room = ?", (room_id,))
        self._db.execute("UPDATE rooms SET synced_seq = ? WHERE id = ?", (seq, room_id))

    # ---------------------------------------------------------- messages

    def add_messages(self, messages: Iterable[Message]) -> None:
        """Store messages (known seqs are kept as they are) and advance the resume
        point of their rooms over whatever is now contiguous."""
        batch = [m for m in messages if m.room is not None and m.seq is not None]
        if not batch:
            return
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                "INSERT OR IGNORE INTO messages(room, seq, id, author, body, ts, client_msg_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(m.room, m.seq, m.id, m.author, m.body, m.ts, m.client_msg_id) for m in batch],
            )
            for room_id in {m.room for m in batch if m.room is not None}:
                self._advance(room_id)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _advance(self, room_id: int) -> None:
        synced = self.synced_seq(room_id)
        if synced is None:
            return
        rows = self._db.execute(
            "SELECT seq FROM messages WHERE room = ? AND seq > ? ORDER BY seq", (room_id, synced)
        ).fetchall()
        for (seq,) in rows:
            if seq != synced + 1:
                break
            synced = seq
        self._db.execute("UPDATE rooms SET synced_seq = ? WHERE id = ?", (synced, room_id))

    def recent(self, room_id: int, limit: int = 100) -> list[Message]:
        """The newest ``limit`` messages of a room, oldest first."""
        rows = self._db.execute(
            "SELECT room, seq, id, author, body, ts, client_msg_id FROM messages "
            "WHERE room = ? ORDER BY seq DESC LIMIT ?",
            (room_id, limit),
        ).fetchall()
        return [_message(row) for row in reversed(rows)]

    def trim(self, keep: int = KEEP_PER_ROOM) -> None:
        """Keep only the newest ``keep`` messages of each room."""
        self._db.execute(
            "DELETE FROM messages WHERE (room, seq) IN (SELECT room, seq FROM ("
            "  SELECT room, seq, row_number() OVER (PARTITION BY room ORDER BY seq DESC) AS n "
            "  FROM messages) WHERE n > ?)",
            (keep,),
        )
