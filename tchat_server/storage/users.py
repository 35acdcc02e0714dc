"""Accounts, session tokens (stored only as SHA-256) and invite codes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass

from tchat_server.storage.db import Database
from tchat_server.storage.rooms import DEFAULT_NOTIFY_SQL

__all__ = ["InviteStatus", "TokenRow", "TokenTimes", "UserRow", "UserStore", "hash_secret"]


def hash_secret(secret: str) -> bytes:
    """SHA-256 of a token or invite code: what the database keeps instead of it."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class TokenTimes:
    created_at: float
    last_used_at: float
    """As stored: written at most about once an hour per token (services/tokens.py)."""


@dataclass(frozen=True, slots=True)
class TokenRow:
    """One session token as an admin sees it: never its hash."""

    client: str
    created_at: float
    last_used_at: float
    revoked_at: float | None


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    name: str
    password_hash: str
    is_admin: bool
    disabled: bool
    created_at: float
    role: str = "member"
    """The server role: ``owner``, ``admin`` (both with ``is_admin``) or ``member``."""


def _user(row: sqlite3.Row) -> UserRow:
    return UserRow(
        id=row["id"],
        name=row["name"],
        password_hash=row["password_hash"],
        is_admin=bool(row["is_admin"]),
        disabled=bool(row["disabled"]),
        created_at=row["created_at"],
        role=row["role"],
    )


_USER_COLUMNS = "id, name, password_hash, is_admin, disabled, created_at, role"

InviteStatus = str
"""'ok', 'unknown', 'expired' or 'used_up'."""


class UserStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---------------------------------------------------------------- users

    async def get_by_name(self, name: str) -> UserRow | None:
        """The user of that name, in any case ("Alice" finds alice)."""
        row = await self._db.fetch_one(
            f"SELECT {_USER_COLUMNS} FROM users WHERE name_fold = ?", (name.casefold(),)
        )
        return _user(row) if row else None

    async def ids_by_names(self, names: list[str]) -> dict[str, int]:
        """Casefolded name -> user id for those of ``names`` that exist (one query)."""
        folds = sorted({name.casefold() for name in names})
        if not folds:
            return {}
        marks = ",".join("?" * len(folds))
        rows = await self._db.fetch_all(
            f"SELECT name_fold, id FROM users WHERE name_fold IN ({marks})", folds
        )
        return {str(row[0]): int(row[1]) for row in rows}

    async def refresh_name_folds(self) -> None:
        """Casefold names SQLite's ASCII-only lower() got wrong (migration 0002)."""
        rows = await self._db.fetch_all("SELECT id, name, name_fold FROM users")
        stale = [
            (r["name"].casefold(), r["id"]) for r in rows if r["name_fold"] != r["name"].casefold()
        ]
        if stale:
            async with self._db.write() as conn:
                await conn.executemany("UPDATE users SET name_fold = ? WHERE id = ?", stale)

    async def get_by_id(self, user_id: int) -> UserRow | None:
        row = await self._db.fetch_one(
            f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,)
        )
        return _user(row) if row else None

    async def get_names(self, user_ids: list[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        marks = ",".join("?" * len(user_ids))
        rows = await self._db.fetch_all(
            f"SELECT id, name FROM users WHERE id IN ({marks})", user_ids
        )
        return {row["id"]: row["name"] for row in rows}

    async def skeleton_taken(self, skeleton: str) -> bool:
        row = await self._db.fetch_one("SELECT 1 FROM users WHERE skeleton = ?", (skeleton,))
        return row is not None

    async def count(self) -> int:
        row = await self._db.fetch_one("SELECT count(*) FROM users")
        return int(row[0]) if row else 0

    async def list_all(self) -> list[UserRow]:
        rows = await self._db.fetch_all(f"SELECT {_USER_COLUMNS} FROM users ORDER BY name")
        return [_user(row) for row in rows]

    async def add(
        self,
        name: str,
        skeleton: str,
        password_hash: str,
        *,
        is_admin: bool = False,
        invite_hash: bytes | None = None,
        join_room_ids: tuple[int, ...] = (),
    ) -> UserRow | None:
        """Create a user (and consume one use of an invite, and join rooms) in one
        transaction. Returns None when the name or its skeleton is taken, or the
        invite was used up meanwhile."""
        now = time.time()
        try:
            async with self._db.write() as conn:
                if invite_hash is not None:
                    cursor = await conn.execute(
                        "UPDATE invites SET uses_left = uses_left - 1 WHERE code_hash = ? "
                        "AND uses_left > 0 AND (expires_at IS NULL OR expires_at > ?)",
                        (invite_hash, now),
                    )
                    if cursor.rowcount != 1:
                        return None
                role = "member"
                if is_admin:  # the first admin owns the server (as migration 0003 decides)
                    owner = await conn.execute("SELECT 1 FROM users WHERE role = 'owner'")
                    role = "admin" if await owner.fetchone() else "owner"
                cursor = await conn.execute(
                    "INSERT INTO users(name, name_fold, skeleton, password_hash, is_admin, "
                    "created_at, role) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (name, name.casefold(), skeleton, password_hash, int(is_admin), now, role),
                )
                user_id = int(cursor.lastrowid or 0)
                await conn.executemany(
                    "INSERT OR IGNORE INTO members(room_id, user_id, joined_at, last_read_seq, "
                    f"notify) SELECT id, ?, ?, latest_seq, {DEFAULT_NOTIFY_SQL} FROM rooms "
                    "WHERE id = ?",
                    [(user_id, now, room_id) for room_id in join_room_ids],
                )
        except sqlite3.IntegrityError:
            return None
        return UserRow(user_id, name, password_hash, is_admin, False, now, role)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )

    async def set_disabled(self, user_id: int, disabled: bool) -> None:
        """Disable (or enable) an account; disabling also revokes all its tokens."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id)
            )
            if disabled:
                await conn.execute(
                    "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                    (time.time(), user_id),
                )

    async def set_role(self, user_id: int, role: str, actor_id: int | None = None) -> bool:
        """Set a server role (``is_admin`` follows it) and log it, in one transaction;
        False when it was that already."""
        now = time.time()
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE users SET role = ?, is_admin = ? WHERE id = ? AND role != ?",
                (role, int(role in {"owner", "admin"}), user_id, role),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(
                "INSERT INTO audit_log(ts, actor_id, action, target_id, detail) "
                "VALUES (?, ?, 'server_role', ?, ?)",
                (now, actor_id, user_id, json.dumps({"role": role})),
            )
        return True

    # --------------------------------------------------------------- tokens

    async def add_token(self, user_id: int, token_hash: bytes, client: str) -> None:
        now = time.time()
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO tokens(hash, user_id, client, created_at, last_used_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (token_hash, user_id, client, now, now),
            )

    async def get_user_by_token(self, token_hash: bytes) -> UserRow | None:
        """The live (not revoked, not disabled) user a token belongs to."""
        row = await self._db.fetch_one(
            f"SELECT {', '.join('u.' + c for c in _USER_COLUMNS.split(', '))} "
            "FROM tokens t JOIN users u ON u.id = t.user_id "
            "WHERE t.hash = ? AND t.revoked_at IS NULL AND u.disabled = 0",
            (token_hash,),
        )
        return _user(row) if row else None

    async def token_owner(self, token_hash: bytes) -> tuple[UserRow, TokenTimes] | None:
        """The live user a token belongs to and the token's times (None: unknown,
        revoked, or the account is disabled)."""
        row = await self._db.fetch_one(
            f"SELECT {', '.join('u.' + c for c in _USER_COLUMNS.split(', '))}, "
            "t.created_at AS t_created, t.last_used_at AS t_used "
            "FROM tokens t JOIN users u ON u.id = t.user_id "
            "WHERE t.hash = ? AND t.revoked_at IS NULL AND u.disabled = 0",
            (token_hash,),
        )
        if row is None:
            return None
        return _user(row), TokenTimes(float(row["t_created"]), float(row["t_used"]))

    async def touch_tokens(self, used: list[tuple[bytes, float]]) -> None:
        """Move ``last_used_at`` forward for each (hash, time), in one statement and
        one transaction (never backwards: a late batch cannot undo a newer one)."""
        if not used:
            return
        async with self._db.write() as conn:
            await conn.executemany(
                "UPDATE tokens SET last_used_at = ?1 WHERE hash = ?2 AND last_used_at < ?1",
                [(at, token_hash) for token_hash, at in used],
            )

    async def list_tokens(self, user_id: int) -> list[TokenRow]:
        """A user's tokens, newest first (never their hashes)."""
        rows = await self._db.fetch_all(
            "SELECT client, created_at, last_used_at, revoked_at FROM tokens "
            "WHERE user_id = ? ORDER BY created_at DESC",
            (user_id,),
        )
        return [TokenRow(r[0], r[1], r[2], r[3]) for r in rows]

    async def revoke_tokens(self, user_id: int, client: str | None = None) -> int:
        """Revoke a user's live tokens (only those of ``client`` when given); how many."""
        sql = "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
        params: tuple[object, ...] = (time.time(), user_id)
        if client is not None:
            sql += " AND client = ?"
            params += (client,)
        async with self._db.write() as conn:
            cursor = await conn.execute(sql, params)
            return int(cursor.rowcount)

    async def revoke_expired(self, idle_before: float | None, created_before: float | None) -> int:
        """Revoke every live token last used before ``idle_before`` or made before
        ``created_before`` (None: that limit is off); how many."""
        clauses = [
            f"{column} < ?"
            for column, limit in (("last_used_at", idle_before), ("created_at", created_before))
            if limit is not None
        ]
        if not clauses:
            return 0
        limits = [limit for limit in (idle_before, created_before) if limit is not None]
        async with self._db.write() as conn:
            cursor = await conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL "
                f"AND ({' OR '.join(clauses)})",
                (time.time(), *limits),
            )
            return int(cursor.rowcount)

    async def revoke_token(self, token_hash: bytes) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL",
                (time.time(), token_hash),
            )

    async def revoke_all_tokens(self, user_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                (time.time(), user_id),
            )

    async def dead_tokens(self, token_hashes: list[bytes]) -> set[bytes]:
        """Which of these tokens are revoked or belong to a disabled user (or are gone)."""
        dead: set[bytes] = set()
        for start in range(0, len(token_hashes), 500):
            chunk = token_hashes[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetch_all(
                "SELECT t.hash FROM tokens t JOIN users u ON u.id = t.user_id "
                f"WHERE t.hash IN ({marks}) AND t.revoked_at IS NULL AND u.disabled = 0",
                chunk,
            )
            alive = {bytes(row[0]) for row in rows}
            dead.update(h for h in chunk if h not in alive)
        return dead

    # -------------------------------------------------------------- invites

    async def add_invite(
        self, code_hash: bytes, uses: int, expires_at: float | None, created_by: int | None
    ) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO invites(code_hash, created_by, uses_left, expires_at, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (code_hash, created_by, uses, expires_at, time.time()),
            )

    async def check_invite(self, code_hash: bytes) -> InviteStatus:
        row = await self._db.fetch_one(
            "SELECT uses_left, expires_at FROM invites WHERE code_hash = ?", (code_hash,)
        )
        if row is None:
            return "unknown"
        if row["expires_at"] is not None and row["expires_at"] <= time.time():
            return "expired"
        if row["uses_left"] <= 0:
            return "used_up"
        return "ok"
