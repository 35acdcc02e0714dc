"""Opening the profile's local SQLite files (cache, outbox) the same way."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

__all__ = ["add_missing_columns", "open_local_db"]


def open_local_db(path: Path, synchronous: Literal["NORMAL", "FULL"]) -> sqlite3.Connection:
    """A WAL connection in autocommit mode with ``Row`` rows, in a private folder.

    FULL makes a committed write reach the disk before the call returns (the
    outbox); NORMAL survives a crash of the process but not of the machine (the
    cache, which the server can refill).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db


def add_missing_columns(db: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """``ALTER TABLE ADD COLUMN`` for each of ``columns`` the table lacks: a file
    written by an older tchat opens as it is and gains the new columns."""
    have = {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")}
    for name, declaration in columns.items():
        if name not in have:
            try:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
            except sqlite3.OperationalError as exc:
                # Another process of the profile added it between our look and now.
                if "duplicate column" not in str(exc):
                    raise
