"""The local cache: rooms, recent messages per room, the resume point and the epoch.

It lets the client show something at once, even offline, and tells the server
where to resume. ``synced_seq`` of a room is the resume point: every message up
to it is either held here or was already gone when we started following the
room; it only ever advances over a contiguous run of seqs, so a gap is never
skipped silently. The epoch names the server database the seqs belong to: when
the server reports another one, everything here is void and is wiped.

Messages change after they are stored (edits, deletes, reactions, reply counts):
a row holds a message as it was last seen, and ``synced_change`` of a room is the
change cursor sent in the hello (``hello.changes``) so that the server replays
the changes missed while away. Files written by an older tchat gain the new
columns when opened (their messages then look unchanged until a change arrives).

A cache, not a record: ``synchronous=NORMAL`` (survives a crash of the client,
maybe not a power cut) and the oldest messages are trimmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tchat_client.core.cache_rows import message_from_row, message_to_row, room_from_row
from tchat_client.core.localdb import add_missing_columns, open_local_db
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
    -- and the _ADDED_ROOM_COLUMNS below
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
    -- and the _ADDED_MESSAGE_COLUMNS below
) WITHOUT ROWID;
"""

_ADDED_ROOM_COLUMNS = {
    "latest_change": "INTEGER NOT NULL DEFAULT 0",
    "notify": "TEXT NOT NULL DEFAULT 'all'",
    "muted": "INTEGER NOT NULL DEFAULT 0",
    "role": "TEXT NOT NULL DEFAULT 'member'",
    "slow_mode": "INTEGER NOT NULL DEFAULT 0",
    "locked": "INTEGER NOT NULL DEFAULT 0",
    "muted_until": "REAL",
    "synced_change": "INTEGER NOT NULL DEFAULT 0",
}
"""Columns added for issue #5; ``synced_change`` is the change cursor (hello.changes)."""

_ADDED_MESSAGE_COLUMNS = {
    "reply_to": "INTEGER",
    "reply": "TEXT",  # JSON: {seq, author, snippet, deleted}
    "reply_count": "INTEGER NOT NULL DEFAULT 0",
    "edited": "REAL",
    "deleted": "INTEGER NOT NULL DEFAULT 0",
    "reactions": "TEXT",  # JSON: [[emoji, [user, ...]], ...]
    "file": "TEXT",  # JSON: {id, name, size, mime, sha256}
    "change": "INTEGER NOT NULL DEFAULT 0",
}

_UPDATE_SET = (
    "id = excluded.id, author = excluded.author, body = excluded.body, ts = excluded.ts, "
    "client_msg_id = excluded.client_msg_id, reply_to = excluded.reply_to, "
    "reply = excluded.reply, reply_count = excluded.reply_count, edited = excluded.edited, "
    "deleted = excluded.deleted, reactions = excluded.reactions, file = excluded.file, "
    "change = excluded.change"
)

_ROOM_FIELDS = (
    "id, name, kind, topic, member_count, latest_seq, last_read_seq, unread, mentions, "
    "dm_user, others_read_seq, latest_change, notify, muted, role, slow_mode, locked, "
    "muted_until"
)

_MESSAGE_FIELDS = (
    "room, seq, id, author, body, ts, client_msg_id, reply_to, reply, reply_count, edited, "
    "deleted, reactions, file, change"
)

KEEP_PER_ROOM = 1000
"""Messages kept per room; older ones are fetched again when scrolled to."""


class Cache:
    """The cache file of one profile (stdlib sqlite3; each write commits at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_local_db(path, "NORMAL")
        self._db.executescript(_SCHEMA)
        add_missing_columns(self._db, "rooms", _ADDED_ROOM_COLUMNS)
        add_missing_columns(self._db, "messages", _ADDED_MESSAGE_COLUMNS)

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
        return [room_from_row(row) for row in rows]

    def save_room(self, room: Room) -> None:
        """Insert or update a room; a new room starts following at its latest seq
        and its latest change (what is fetched later comes as it is then)."""
        self._db.execute(
            "INSERT INTO rooms(id, name, kind, topic, member_count, latest_seq, last_read_seq, "
            "unread, mentions, dm_user, others_read_seq, latest_change, notify, muted, role, "
            "slow_mode, locked, muted_until, synced_seq, synced_change) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET "
            "name = excluded.name, kind = excluded.kind, topic = excluded.topic, "
            "member_count = excluded.member_count, latest_seq = excluded.latest_seq, "
            "last_read_seq = excluded.last_read_seq, unread = excluded.unread, "
            "mentions = excluded.mentions, dm_user = excluded.dm_user, "
            "others_read_seq = excluded.others_read_seq, "
            "latest_change = excluded.latest_change, notify = excluded.notify, "
            "muted = excluded.muted, role = excluded.role, slow_mode = excluded.slow_mode, "
            "locked = excluded.locked, muted_until = excluded.muted_until",
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
                room.latest_change,
                room.notify,
                int(room.muted),
                room.role,
                room.slow_mode,
                int(room.locked),
                room.muted_until,
                room.latest_seq,
                room.latest_change,
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

    def synced_changes(self) -> dict[int, int]:
        """Room id -> change cursor, for the hello's ``changes``."""
        rows = self._db.execute("SELECT id, synced_change FROM rooms").fetchall()
        return {int(row[0]): int(row[1]) for row in rows}

    def synced_change(self, room_id: int) -> int | None:
        row = self._db.execute(
            "SELECT synced_change FROM rooms WHERE id = ?", (room_id,)
        ).fetchone()
        return int(row[0]) if row else None

    def set_synced_change(self, room_id: int, change: int, *, only_forward: bool = True) -> None:
        """Move a room's change cursor (forward only, unless told: after a replay
        the server's ``latest_change`` is the truth)."""
        if only_forward:
            self._db.execute(
                "UPDATE rooms SET synced_change = ? WHERE id = ? AND synced_change < ?",
                (change, room_id, change),
            )
        else:
            self._db.execute("UPDATE rooms SET synced_change = ? WHERE id = ?", (change, room_id))

    def held_range(self, room_id: int) -> tuple[int, int] | None:
        """The lowest and highest seq held for a room (None: nothing held)."""
        row = self._db.execute(
            "SELECT min(seq), max(seq) FROM messages WHERE room = ?", (room_id,)
        ).fetchone()
        return (int(row[0]), int(row[1])) if row and row[0] is not None else None

    def restart_room(self, room_id: int, seq: int) -> None:
        """Drop a room's messages and follow it from ``seq`` (too many were missed)."""
        self._db.execute("DELETE FROM messages WHERE room = ?", (room_id,))
        self._db.execute("UPDATE rooms SET synced_seq = ? WHERE id = ?", (seq, room_id))

    # ---------------------------------------------------------- messages

    def add_messages(self, messages: Iterable[Message]) -> None:
        """Store messages and advance the resume point of their rooms over whatever
        is now contiguous. A seq already held is replaced only by a newer version
        of the message (a higher ``change``): a page fetched earlier never undoes
        an edit that arrived since. The same version may bring a reply's quote of
        its parent as it now is (quotes have no change number)."""
        batch = [m for m in messages if m.room is not None and m.seq is not None]
        if not batch:
            return
        self._db.execute("BEGIN")
        try:
            self._db.executemany(
                f"INSERT INTO messages({_MESSAGE_FIELDS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                f"ON CONFLICT(room, seq) DO UPDATE SET {_UPDATE_SET} "
                "WHERE excluded.change > messages.change OR (excluded.change = messages.change "
                "AND excluded.reply IS NOT messages.reply)",
                [message_to_row(m) for m in batch],
            )
            for room_id in {m.room for m in batch if m.room is not None}:
                self._advance(room_id)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def update_message(self, message: Message) -> bool:
        """A changed message (``message_updated``): replace the row if it is held
        and older; a message not held stays out (the cache keeps recent runs)."""
        row = message_to_row(message)
        cursor = self._db.execute(
            f"UPDATE messages SET {_UPDATE_SET.replace('excluded.', ':')} "
            "WHERE room = :room AND seq = :seq AND change < :change",
            dict(zip([f.strip() for f in _MESSAGE_FIELDS.split(",")], row, strict=True)),
        )
        return cursor.rowcount > 0

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
            f"SELECT {_MESSAGE_FIELDS} FROM messages WHERE room = ? ORDER BY seq DESC LIMIT ?",
            (room_id, limit),
        ).fetchall()
        return [message_from_row(row) for row in reversed(rows)]

    def trim(self, keep: int = KEEP_PER_ROOM) -> None:
        """Keep only the newest ``keep`` messages of each room."""
        self._db.execute(
            "DELETE FROM messages WHERE (room, seq) IN (SELECT room, seq FROM ("
            "  SELECT room, seq, row_number() OVER (PARTITION BY room ORDER BY seq DESC) AS n "
            "  FROM messages) WHERE n > ?)",
            (keep,),
        )
