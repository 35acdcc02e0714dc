"""Rooms (channels, groups, DMs), their members, and each member's read marker."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from tchat_server.storage.db import Database

__all__ = ["MembershipRow", "RoomRow", "RoomStore"]

DEFAULT_NOTIFY_SQL = "CASE kind WHEN 'channel' THEN 'mentions' ELSE 'all' END"
"""A new member's notification level, from the room's kind (``rooms.kind``): as in
Slack, channels alert on mentions only, DMs and groups on every message."""


def default_notify(kind: str) -> str:
    """``DEFAULT_NOTIFY_SQL`` for a kind known in Python."""
    return "mentions" if kind == "channel" else "all"


@dataclass(frozen=True, slots=True)
class RoomRow:
    id: int
    kind: str
    name: str
    topic: str
    latest_seq: int
    created_by: int | None
    latest_change: int = 0
    slow_mode: int = 0
    locked: bool = False


@dataclass(frozen=True, slots=True)
class MembershipRow:
    """One of a user's rooms, with the user's read state in it."""

    room: RoomRow
    last_read_seq: int
    unread: int
    mentions: int
    member_count: int
    others_read_seq: int = 0
    notify: str = "all"
    notify_muted: bool = False
    role: str = "member"
    muted_until: float | None = None


_ROOM_COLUMNS = (
    "r.id, r.kind, r.name, r.topic, r.latest_seq, r.created_by, r.latest_change, r.slow_mode, "
    "r.locked"
)


def _room(row: sqlite3.Row) -> RoomRow:
    return RoomRow(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        topic=row["topic"],
        latest_seq=row["latest_seq"],
        created_by=row["created_by"],
        latest_change=row["latest_change"],
        slow_mode=row["slow_mode"],
        locked=bool(row["locked"]),
    )


def dm_key(user_a: int, user_b: int) -> str:
    low, high = sorted((user_a, user_b))
    return f"{low}:{high}"


class RoomStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, room_id: int) -> RoomRow | None:
        row = await self._db.fetch_one(
            f"SELECT {_ROOM_COLUMNS} FROM rooms r WHERE r.id = ?", (room_id,)
        )
        return _room(row) if row else None

    async def get_by_name(self, name: str) -> RoomRow | None:
        row = await self._db.fetch_one(
            f"SELECT {_ROOM_COLUMNS} FROM rooms r WHERE r.name_key = ?", (name.casefold(),)
        )
        return _room(row) if row else None

    async def get_dm(self, user_a: int, user_b: int) -> RoomRow | None:
        row = await self._db.fetch_one(
            f"SELECT {_ROOM_COLUMNS} FROM rooms r WHERE r.dm_key = ?", (dm_key(user_a, user_b),)
        )
        return _room(row) if row else None

    async def create(
        self, kind: str, name: str, topic: str, created_by: int | None, member_ids: list[int]
    ) -> RoomRow | None:
        """Create a channel or group with its first members; None if the name is taken."""
        now = time.time()
        try:
            async with self._db.write() as conn:
                cursor = await conn.execute(
                    "INSERT INTO rooms(kind, name, name_key, topic, created_by, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (kind, name, name.casefold(), topic, created_by, now),
                )
                room_id = int(cursor.lastrowid or 0)
                await conn.executemany(
                    "INSERT OR IGNORE INTO members(room_id, user_id, joined_at, notify) "
                    "VALUES (?, ?, ?, ?)",
                    [(room_id, user_id, now, default_notify(kind)) for user_id in member_ids],
                )
                if created_by is not None and kind != "dm":  # the creator owns the room
                    await conn.execute(
                        "UPDATE members SET role = 'owner' WHERE room_id = ? AND user_id = ?",
                        (room_id, created_by),
                    )
        except sqlite3.IntegrityError:
            return None
        return RoomRow(room_id, kind, name, topic, 0, created_by)

    async def get_or_create_dm(self, user_a: int, user_b: int, name: str) -> tuple[RoomRow, bool]:
        """The one DM room of a pair of users; True when it was created now."""
        key = dm_key(user_a, user_b)
        now = time.time()
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO rooms(kind, name, dm_key, created_by, created_at) "
                "VALUES ('dm', ?, ?, ?, ?)",
                (name, key, user_a, now),
            )
            created = cursor.rowcount == 1
            if created:
                room_id = int(cursor.lastrowid or 0)
                await conn.executemany(
                    "INSERT OR IGNORE INTO members(room_id, user_id, joined_at) VALUES (?, ?, ?)",
                    [(room_id, user_a, now), (room_id, user_b, now)],
                )
        room = await self.get_dm(user_a, user_b)
        assert room is not None
        return room, created

    async def add_member(self, room_id: int, user_id: int) -> bool:
        """Add a member, read marker at the room's latest seq; False if already one."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO members(room_id, user_id, joined_at, last_read_seq, notify) "
                f"SELECT id, ?, ?, latest_seq, {DEFAULT_NOTIFY_SQL} FROM rooms WHERE id = ?",
                (user_id, time.time(), room_id),
            )
            return cursor.rowcount == 1

    async def remove_member(self, room_id: int, user_id: int) -> bool:
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "DELETE FROM members WHERE room_id = ? AND user_id = ?", (room_id, user_id)
            )
            return cursor.rowcount == 1

    async def set_topic(self, room_id: int, topic: str) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE rooms SET topic = ? WHERE id = ?", (topic, room_id))

    async def is_member(self, room_id: int, user_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM members WHERE room_id = ? AND user_id = ?", (room_id, user_id)
        )
        return row is not None

    async def member_ids(self, room_id: int) -> list[int]:
        rows = await self._db.fetch_all("SELECT user_id FROM members WHERE room_id = ?", (room_id,))
        return [row[0] for row in rows]

    async def all_memberships(self) -> list[tuple[int, int]]:
        """Every (room_id, user_id) pair: the hub's membership map at start-up."""
        rows = await self._db.fetch_all("SELECT room_id, user_id FROM members")
        return [(row[0], row[1]) for row in rows]

    async def member_names(self, room_id: int) -> list[str]:
        rows = await self._db.fetch_all(
            "SELECT u.name FROM members m JOIN users u ON u.id = m.user_id "
            "WHERE m.room_id = ? ORDER BY u.name",
            (room_id,),
        )
        return [row[0] for row in rows]

    async def dm_partner(self, room_id: int, user_id: int) -> str | None:
        row = await self._db.fetch_one(
            "SELECT u.name FROM members m JOIN users u ON u.id = m.user_id "
            "WHERE m.room_id = ? AND m.user_id != ?",
            (room_id, user_id),
        )
        return str(row[0]) if row else None

    async def channels(self) -> list[tuple[RoomRow, int]]:
        """Every public channel with its member count."""
        rows = await self._db.fetch_all(
            f"SELECT {_ROOM_COLUMNS}, (SELECT count(*) FROM members m WHERE m.room_id = r.id) AS n "
            "FROM rooms r WHERE r.kind = 'channel' ORDER BY r.name_key"
        )
        return [(_room(row), row["n"]) for row in rows]

    async def memberships(self, user_id: int, room_id: int | None = None) -> list[MembershipRow]:
        """The user's rooms with read marker, unread (others' messages past the
        marker), mentions past the marker and member count."""
        where = "m.user_id = :user" + (" AND m.room_id = :room" if room_id is not None else "")
        rows = await self._db.fetch_all(
            f"SELECT {_ROOM_COLUMNS}, m.last_read_seq, m.notify, m.notify_muted, m.role, "
            "m.muted_until, "
            "(SELECT count(*) FROM messages x WHERE x.room_id = r.id "
            "  AND x.seq > m.last_read_seq AND x.author_id != :user) AS unread, "
            "(SELECT count(*) FROM mentions n WHERE n.user_id = :user AND n.room_id = r.id "
            "  AND n.seq > m.last_read_seq) AS mentions, "
            "(SELECT count(*) FROM members c WHERE c.room_id = r.id) AS member_count, "
            "CASE WHEN r.kind = 'channel' THEN 0 ELSE (SELECT coalesce(max(o.last_read_seq), 0) "
            "  FROM members o WHERE o.room_id = r.id AND o.user_id != :user) END AS others_read "
            f"FROM members m JOIN rooms r ON r.id = m.room_id WHERE {where} ORDER BY r.id",
            {"user": user_id, "room": room_id},
        )
        return [
            MembershipRow(
                room=_room(row),
                last_read_seq=row["last_read_seq"],
                unread=row["unread"],
                mentions=row["mentions"],
                member_count=row["member_count"],
                others_read_seq=row["others_read"],
                notify=row["notify"],
                notify_muted=bool(row["notify_muted"]),
                role=row["role"],
                muted_until=row["muted_until"],
            )
            for row in rows
        ]

    async def mark_read(self, room_id: int, user_id: int, seq: int) -> int | None:
        """Move a read marker forward (clamped to the room's latest seq).

        Returns the new marker, or None when it did not move.
        """
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE members SET last_read_seq = min(?, (SELECT latest_seq FROM rooms "
                "WHERE id = ?)) WHERE room_id = ? AND user_id = ? AND last_read_seq < min(?, "
                "(SELECT latest_seq FROM rooms WHERE id = ?)) RETURNING last_read_seq",
                (seq, room_id, room_id, user_id, seq, room_id),
            )
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def set_notify(
        self, room_id: int, user_id: int, level: str | None, muted: bool | None
    ) -> bool:
        """Store a member's notification level and/or mute; False if not a member."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE members SET notify = coalesce(?, notify), "
                "notify_muted = coalesce(?, notify_muted) WHERE room_id = ? AND user_id = ?",
                (level, None if muted is None else int(muted), room_id, user_id),
            )
            return cursor.rowcount == 1

    async def mark_unread(self, room_id: int, user_id: int, seq: int) -> int | None:
        """Set the read marker to ``seq - 1`` (backwards too; clamped to the room's
        latest seq). Returns the new marker, or None when not a member."""
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE members SET last_read_seq = min(?, (SELECT latest_seq FROM rooms "
                "WHERE id = ?)) WHERE room_id = ? AND user_id = ? RETURNING last_read_seq",
                (seq - 1, room_id, room_id, user_id),
            )
            row = await cursor.fetchone()
        return int(row[0]) if row else None
