"""Moderation state (room roles, mutes, bans, slow mode, locks) and the audit log.

Each change is written in one transaction together with its ``audit_log`` row, so
the log never misses an action that took effect nor records one that did not.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from shared.shapes import RoomRole, ServerRole
from tchat_server.storage.db import Database

__all__ = [
    "AuditEntry",
    "AuditRow",
    "ModerationStore",
    "PermissionState",
    "insert_audit",
]

Key = tuple[int, int]
"""(room_id, user_id)."""


@dataclass(slots=True)
class PermissionState:
    """Everything the checks need, as loaded from the database at start."""

    server_roles: dict[int, ServerRole] = field(default_factory=dict)
    """Users whose server role is not ``member``."""
    room_roles: dict[Key, RoomRole] = field(default_factory=dict)
    """Members whose room role is not ``member``."""
    mutes: dict[Key, float] = field(default_factory=dict)
    """Muted members: 0 until unmuted, else until that time."""
    bans: dict[Key, float | None] = field(default_factory=dict)
    """Banned users: None until unbanned, else until that time."""
    slow_mode: dict[int, int] = field(default_factory=dict)
    locked: set[int] = field(default_factory=set)
    moderated_rooms: set[int] = field(default_factory=set)
    """Channels and groups (DMs have no moderation)."""
    names: dict[int, str] = field(default_factory=dict)
    """Names of the users above (for member lists)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action to log: who (None: the admin CLI), what, where, on whom, details."""

    actor_id: int | None
    action: str
    room_id: int | None = None
    target_id: int | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    """A logged action as the audit command shows it (names, not ids)."""

    id: int
    ts: float
    actor: str | None
    action: str
    room: str | None
    target: str | None
    detail: dict[str, Any]


def insert_audit(conn: sqlite3.Connection, entry: AuditEntry, now: float) -> None:
    """Write one audit row inside the caller's transaction."""
    conn.execute(
        "INSERT INTO audit_log(ts, actor_id, action, room_id, target_id, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            now,
            entry.actor_id,
            entry.action,
            entry.room_id,
            entry.target_id,
            json.dumps(entry.detail or {}, ensure_ascii=False, sort_keys=True),
        ),
    )


_LATEST_MUTES = (
    "SELECT a.room_id, a.target_id, a.detail, u.name FROM audit_log a "
    "JOIN (SELECT max(id) AS id FROM audit_log WHERE action IN ('mute', 'unmute') "
    "AND room_id IS NOT NULL AND target_id IS NOT NULL GROUP BY room_id, target_id) latest "
    "ON latest.id = a.id JOIN users u ON u.id = a.target_id WHERE a.action = 'mute'"
)
"""Each member's latest mute or unmute, when it is a mute."""


class ModerationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, now: float) -> PermissionState:
        """The whole permission state; bans that have ended are deleted on the way."""
        db = self._db
        state = PermissionState()
        ended = "FROM bans WHERE until IS NOT NULL AND until <= ?"
        if await db.fetch_one(f"SELECT 1 {ended}", (now,)):  # no write unless needed
            async with db.write() as conn:
                await conn.execute(f"DELETE {ended}", (now,))
        for row in await db.fetch_all("SELECT id, name, role FROM users WHERE role != 'member'"):
            state.server_roles[row["id"]] = row["role"]
            state.names[row["id"]] = row["name"]
        for row in await db.fetch_all(
            "SELECT m.room_id, m.user_id, m.role, m.muted_until, u.name FROM members m "
            "JOIN users u ON u.id = m.user_id WHERE m.role != 'member' OR m.muted_until IS NOT NULL"
        ):
            key = (row["room_id"], row["user_id"])
            if row["role"] != "member":
                state.room_roles[key] = row["role"]
            if row["muted_until"] is not None:
                state.mutes[key] = float(row["muted_until"])
            state.names[row["user_id"]] = row["name"]
        # A mute outlives the membership row that holds it (leaving, a kick or a ban
        # deletes the row): every mute and unmute is audited with its end, so the
        # latest of them per member says whether one still runs.
        for row in await db.fetch_all(_LATEST_MUTES):
            try:
                until = float(json.loads(row["detail"]).get("until") or 0.0)
            except (ValueError, TypeError, AttributeError):
                continue
            if until and until <= now:
                continue
            state.mutes[(row["room_id"], row["target_id"])] = until
            state.names[row["target_id"]] = row["name"]
        for row in await db.fetch_all("SELECT room_id, user_id, until FROM bans"):
            state.bans[(row["room_id"], row["user_id"])] = row["until"]
        for row in await db.fetch_all("SELECT id, slow_mode, locked FROM rooms WHERE kind != 'dm'"):
            state.moderated_rooms.add(row["id"])
            if row["slow_mode"]:
                state.slow_mode[row["id"]] = row["slow_mode"]
            if row["locked"]:
                state.locked.add(row["id"])
        return state

    async def server_roles(self) -> list[tuple[int, str]]:
        rows = await self._db.fetch_all("SELECT id, role FROM users WHERE role != 'member'")
        return [(int(row[0]), str(row[1])) for row in rows]

    # ----------------------------------------------------------------- changes

    async def remove(self, room_id: int, user_id: int, entry: AuditEntry) -> bool:
        """Kick: end the membership; False (nothing logged) when there was none."""

        def run(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "DELETE FROM members WHERE room_id = ? AND user_id = ?", (room_id, user_id)
            )
            if cursor.rowcount != 1:
                return False
            insert_audit(conn, entry, time.time())
            return True

        return await self._db.run_write(run)

    async def ban(
        self, room_id: int, user_id: int, until: float | None, reason: str, entry: AuditEntry
    ) -> bool:
        """Ban (or change a ban's end) and end any membership; True if one ended."""

        def run(conn: sqlite3.Connection) -> bool:
            now = time.time()
            cursor = conn.execute(
                "DELETE FROM members WHERE room_id = ? AND user_id = ?", (room_id, user_id)
            )
            conn.execute(
                "INSERT INTO bans(room_id, user_id, until, by_id, reason, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(room_id, user_id) DO UPDATE SET "
                "until = excluded.until, by_id = excluded.by_id, reason = excluded.reason, "
                "created_at = excluded.created_at",
                (room_id, user_id, until, entry.actor_id, reason, now),
            )
            insert_audit(conn, entry, now)
            return cursor.rowcount == 1

        return await self._db.run_write(run)

    async def unban(self, room_id: int, user_id: int, entry: AuditEntry) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "DELETE FROM bans WHERE room_id = ? AND user_id = ?", (room_id, user_id)
            )
            if cursor.rowcount != 1:
                return False
            insert_audit(conn, entry, time.time())
            return True

        return await self._db.run_write(run)

    async def set_member(
        self, room_id: int, user_id: int, column: str, value: object, entry: AuditEntry
    ) -> bool:
        """Set a member's ``role`` or ``muted_until``; False when not a member."""
        if column not in {"role", "muted_until"}:
            raise ValueError(column)

        def run(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                f"UPDATE members SET {column} = ? WHERE room_id = ? AND user_id = ?",
                (value, room_id, user_id),
            )
            if cursor.rowcount != 1:
                return False
            insert_audit(conn, entry, time.time())
            return True

        return await self._db.run_write(run)

    async def set_room(self, room_id: int, column: str, value: int, entry: AuditEntry) -> None:
        """Set a room's ``slow_mode`` or ``locked``."""
        if column not in {"slow_mode", "locked"}:
            raise ValueError(column)

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(f"UPDATE rooms SET {column} = ? WHERE id = ?", (value, room_id))
            insert_audit(conn, entry, time.time())

        await self._db.run_write(run)

    async def restore_mute(self, room_id: int, user_id: int, until: float) -> None:
        """Write back a mute that outlived a leave (the member joined again)."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE members SET muted_until = ? WHERE room_id = ? AND user_id = ?",
                (until, room_id, user_id),
            )

    async def audit(self, entry: AuditEntry) -> None:
        """Log an action whose change another store made (a moderator's delete)."""

        def run(conn: sqlite3.Connection) -> None:
            insert_audit(conn, entry, time.time())

        await self._db.run_write(run)

    # ------------------------------------------------------------------ reading

    async def audit_log(self, room: str | None = None, limit: int = 100) -> list[AuditRow]:
        """The newest ``limit`` actions first, optionally of one room (by name)."""
        where = "WHERE r.name_key = :room" if room is not None else ""
        rows = await self._db.fetch_all(
            "SELECT a.id, a.ts, a.action, a.detail, ua.name AS actor, r.name AS room, "
            "r.kind AS kind, ut.name AS target FROM audit_log a "
            "LEFT JOIN users ua ON ua.id = a.actor_id LEFT JOIN rooms r ON r.id = a.room_id "
            f"LEFT JOIN users ut ON ut.id = a.target_id {where} "
            "ORDER BY a.id DESC LIMIT :limit",
            {"room": (room or "").removeprefix("#").casefold(), "limit": limit},
        )
        found: list[AuditRow] = []
        for row in rows:
            try:
                detail = json.loads(row["detail"])
            except ValueError:
                detail = {"raw": row["detail"]}
            found.append(
                AuditRow(
                    id=row["id"],
                    ts=row["ts"],
                    actor=row["actor"],
                    action=row["action"],
                    room=row["room"],
                    target=row["target"],
                    detail=detail if isinstance(detail, dict) else {"value": detail},
                )
            )
        return found
