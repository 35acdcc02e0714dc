"""The SQLite database: connections, pragmas, numbered migrations, write transactions.

Two connections: one writer, used only inside ``write()`` (an asyncio lock keeps
transactions from interleaving on it), and one reader, which in WAL mode sees the
last committed state and never blocks the writer. ``synchronous=FULL`` by default,
so a committed transaction is on disk: an ack sent after ``write()`` returns means
the message survives a power cut.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

import aiosqlite

__all__ = ["SCHEMA_VERSION", "Database", "StorageUnavailable"]

SynchronousMode = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
T = TypeVar("T")


class StorageUnavailable(Exception):
    """A write could not be committed (disk full, read-only, I/O error).

    Nothing of the transaction was kept; the caller must not acknowledge it.
    """


def _migrations() -> list[tuple[int, str]]:
    """The numbered ``NNNN_*.sql`` files, in order."""
    found: list[tuple[int, str]] = []
    folder = resources.files("tchat_server.storage") / "migrations"
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d{4})_\w+\.sql", entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


SCHEMA_VERSION = max(number for number, _ in _migrations())


class Database:
    """Both connections to one SQLite file, migrated to ``SCHEMA_VERSION``."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self.reader = reader
        self._write_lock = asyncio.Lock()
        self.epoch = ""
        self.write_error: str | None = None
        """Why the last write transaction failed (StorageUnavailable), until one
        commits again: a read-only or full disk makes the server unready."""

    @classmethod
    async def open(cls, path: Path, *, synchronous: SynchronousMode = "FULL") -> Database:
        """Open (creating if needed) and migrate the database at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        reader: aiosqlite.Connection | None = None
        try:
            await _configure(writer, synchronous)
            db_version = await _user_version(writer)
            if db_version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{path} has schema version {db_version}, newer than this server's "
                    f"{SCHEMA_VERSION}: upgrade tchat"
                )
            await _migrate(writer, db_version)
            reader = await aiosqlite.connect(path, isolation_level=None)
            await _configure(reader, synchronous)
            await reader.execute("PRAGMA query_only=ON")
        except BaseException:
            await writer.close()
            if reader is not None:
                await reader.close()
            raise
        db = cls(path, writer, reader)
        db.epoch = await db._ensure_epoch()
        return db

    async def close(self) -> None:
        async with self._write_lock:
            await self._writer.close()
        await self.reader.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction (BEGIN IMMEDIATE ... COMMIT), one at a time.

        Raises:
            StorageUnavailable: the commit failed; everything was rolled back.
        """
        async with self._write_lock:
            conn = self._writer
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                self.write_error = str(exc)
                raise StorageUnavailable(str(exc)) from exc
            try:
                yield conn
                await conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        await conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) and not (
                    isinstance(exc, sqlite3.IntegrityError)
                ):
                    self.write_error = str(exc)
                    raise StorageUnavailable(str(exc)) from exc
                raise
            self.write_error = None

    async def run_write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one write transaction, all of it on the writer's thread.

        Same guarantees as ``write()`` (BEGIN IMMEDIATE ... COMMIT, one at a time,
        ``StorageUnavailable`` when nothing was kept), but one thread hop for the
        whole transaction instead of one per statement (~70 µs each): ``fn`` gets the
        plain ``sqlite3`` connection and must not touch the event loop.
        """

        def transaction() -> T:
            conn = self._writer._conn  # the worker thread's own connection
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            return result

        async with self._write_lock:
            try:
                # aiosqlite (0.22) runs queued callables in order on the connection's
                # thread; ``_execute`` is how its own methods queue them.
                result: T = await self._writer._execute(transaction)  # type: ignore[no-untyped-call]
            except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
                if isinstance(exc, sqlite3.IntegrityError):
                    raise
                self.write_error = str(exc)
                raise StorageUnavailable(str(exc)) from exc
            self.write_error = None
            return result

    async def probe_write(self) -> bool:
        """A tiny real write (a ``meta`` row): whether writes work again. Meant
        only for while ``write_error`` is set, a few seconds apart."""
        try:
            async with self.write() as conn:
                await conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('write_probe', ?)",
                    (str(time.time()),),
                )
        except StorageUnavailable:
            return False
        return True

    async def run_read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn``'s queries on the reader's thread in one read transaction: one
        thread hop for several statements, all seeing the same committed state.
        ``fn`` must fetch every statement to its end and not touch the event loop."""

        def transaction() -> T:
            conn = self.reader._conn  # the reader thread's own connection
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                conn.execute("COMMIT")

        # As in run_write: aiosqlite runs queued callables in order on its thread.
        result: T = await self.reader._execute(transaction)  # type: ignore[no-untyped-call]
        return result

    async def fetch_one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        """Run a query to its end in one step on the reader's thread.

        Never a cursor held open across awaits: while any statement of the reader is
        unfinished, its read transaction (and so its snapshot) stays open, and every
        other query on the connection would see the database as it was then, missing
        commits made meanwhile (a room just created, a message just acked).
        """
        return list(await self.reader.execute_fetchall(sql, params))

    async def _ensure_epoch(self) -> str:
        """The database's identity: made once, it tells clients when their seqs
        belong to another database."""
        row = await self.fetch_one("SELECT value FROM meta WHERE key = 'epoch'")
        if row is not None:
            return str(row[0])
        epoch = secrets.token_hex(8)
        async with self.write() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('epoch', ?)", (epoch,)
            )
        row = await self.fetch_one("SELECT value FROM meta WHERE key = 'epoch'")
        assert row is not None
        return str(row[0])

    async def integrity_check(self) -> list[str]:
        """``PRAGMA integrity_check``: ``["ok"]`` when the file is sound."""
        rows = await self.fetch_all("PRAGMA integrity_check")
        return [str(row[0]) for row in rows]


async def _configure(conn: aiosqlite.Connection, synchronous: SynchronousMode) -> None:
    conn.row_factory = sqlite3.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute(f"PRAGMA synchronous={synchronous}")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA busy_timeout=5000")


async def _user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _migrate(conn: aiosqlite.Connection, current: int) -> None:
    """Apply every migration newer than ``current``, each in its own transaction."""
    for number, sql in _migrations():
        if number <= current:
            continue
        script = f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;"
        try:
            await conn.executescript(script)
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
