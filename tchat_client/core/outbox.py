"""The outbox: every message we send, on disk before the first attempt to send it.

A row is written (and, with ``synchronous=FULL``, on disk) before ``add`` returns,
and is deleted only when the server's ack arrives, so killing the client at any
moment loses nothing; resending after a restart is safe because the server
stores one message per ``client_msg_id``. Rows keep their order (``position``);
the sender flushes them in that order, one room (lane) at a time.

Several processes of one profile may share the file (the TUI and a cron job's
``tchat send --queue``): SQLite serialises them and the server's idempotency
makes a row sent by both harmless.

A reply (``reply_to``) and a file card (``file_id``) travel with the row. They were
added after the first release: an older outbox gains the columns when opened.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tchat_client.core.localdb import add_missing_columns, open_local_db

__all__ = ["Outbox", "OutboxEntry", "OutboxState", "new_client_msg_id"]

OutboxState = Literal["queued", "sent", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    position      INTEGER PRIMARY KEY AUTOINCREMENT,
    client_msg_id TEXT NOT NULL UNIQUE,
    target        TEXT NOT NULL,          -- what the user addressed: #general, @bob, ops
    room_id       INTEGER,                -- resolved room, valid only under `epoch`
    epoch         TEXT,
    body          TEXT NOT NULL,
    created_at    REAL NOT NULL,
    state         TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,  -- times written to a socket
    error_code    TEXT,
    error         TEXT,
    reply_to      INTEGER,                -- the seq (same room) this message answers
    file_id       INTEGER                 -- an uploaded file to show as its card
);
"""

_ADDED_COLUMNS = {"reply_to": "INTEGER", "file_id": "INTEGER"}
"""Columns an outbox written by an older tchat lacks (added on open)."""

_COLUMNS = (
    "position, client_msg_id, target, room_id, epoch, body, created_at, state, attempts, "
    "error_code, error, reply_to, file_id"
)


def new_client_msg_id() -> str:
    """A fresh idempotency key: random, so two devices never collide."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    position: int
    client_msg_id: str
    target: str
    room_id: int | None
    epoch: str | None
    body: str
    created_at: float
    state: OutboxState
    attempts: int
    error_code: str | None = None
    error: str | None = None
    reply_to: int | None = None
    file_id: int | None = None

    def lane(self, epoch: str | None) -> str:
        """Messages in one lane are sent in order, one at a time: the room when it is
        known under the current epoch, else the target as typed."""
        if self.room_id is not None and self.epoch == epoch:
            return f"room:{self.room_id}"
        return f"target:{self.target.casefold()}"

    @property
    def may_be_stored(self) -> bool:
        """Written to a socket at least once and never refused for good: the server
        may hold it, so only its answer may take it out of the outbox."""
        return self.attempts > 0 and self.state != "failed"


def _entry(row: sqlite3.Row) -> OutboxEntry:
    return OutboxEntry(
        position=row["position"],
        client_msg_id=row["client_msg_id"],
        target=row["target"],
        room_id=row["room_id"],
        epoch=row["epoch"],
        body=row["body"],
        created_at=row["created_at"],
        state=row["state"],
        attempts=row["attempts"],
        error_code=row["error_code"],
        error=row["error"],
        reply_to=row["reply_to"],
        file_id=row["file_id"],
    )


class Outbox:
    """The outbox file of one profile (stdlib sqlite3: each write commits at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # FULL: a row is on disk, not just in the OS cache, before add() returns.
        self._db = open_local_db(path, "FULL")
        self._db.execute(_SCHEMA)
        add_missing_columns(self._db, "outbox", _ADDED_COLUMNS)
        self._data_version = self._version()

    def close(self) -> None:
        self._db.close()

    def _version(self) -> int:
        row = self._db.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def changed_elsewhere(self) -> bool:
        """True once after another process committed to the file."""
        version = self._version()
        changed, self._data_version = version != self._data_version, version
        return changed

    # ------------------------------------------------------------ writes

    def add(
        self,
        target: str,
        body: str,
        *,
        room_id: int | None = None,
        epoch: str | None = None,
        client_msg_id: str | None = None,
        reply_to: int | None = None,
        file_id: int | None = None,
    ) -> OutboxEntry:
        """Store a message to send; with a ``client_msg_id`` already present, keep
        the existing row (a script retrying with ``--id`` queues nothing twice)."""
        cid = client_msg_id or new_client_msg_id()
        self._db.execute(
            "INSERT OR IGNORE INTO outbox(client_msg_id, target, room_id, epoch, body, "
            "created_at, reply_to, file_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (cid, target, room_id, epoch, body, time.time(), reply_to, file_id),
        )
        entry = self.get(cid)
        assert entry is not None
        return entry

    def mark_sent(self, cid: str) -> None:
        self._db.execute(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, error_code = NULL, "
            "error = NULL WHERE client_msg_id = ?",
            (cid,),
        )

    def mark_queued(self, cid: str, code: str | None = None, error: str | None = None) -> None:
        """Back in the queue after a refusal that a later attempt may overcome."""
        self._db.execute(
            "UPDATE outbox SET state = 'queued', error_code = ?, error = ? WHERE client_msg_id = ?",
            (code, error, cid),
        )

    def mark_failed(self, cid: str, code: str, error: str) -> None:
        self._db.execute(
            "UPDATE outbox SET state = 'failed', error_code = ?, error = ? WHERE client_msg_id = ?",
            (code, error, cid),
        )

    def resolve(self, cid: str, room_id: int, epoch: str) -> None:
        self._db.execute(
            "UPDATE outbox SET room_id = ?, epoch = ? WHERE client_msg_id = ?",
            (room_id, epoch, cid),
        )

    def retry_failed(self, cids: list[str] | None = None) -> int:
        """Queue failed messages again (all, or those named)."""
        if cids is None:
            cursor = self._db.execute(
                "UPDATE outbox SET state = 'queued', error_code = NULL, error = NULL "
                "WHERE state = 'failed'"
            )
        else:
            cursor = self._db.executemany(
                "UPDATE outbox SET state = 'queued', error_code = NULL, error = NULL "
                "WHERE state = 'failed' AND client_msg_id = ?",
                [(cid,) for cid in cids],
            )
        return cursor.rowcount

    def remove(self, cid: str) -> bool:
        cursor = self._db.execute("DELETE FROM outbox WHERE client_msg_id = ?", (cid,))
        return cursor.rowcount > 0

    # ------------------------------------------------------------- reads

    def get(self, cid: str) -> OutboxEntry | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE client_msg_id = ?", (cid,)
        ).fetchone()
        return _entry(row) if row else None

    def entries(self) -> list[OutboxEntry]:
        """Every row, failed ones included, oldest first."""
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY position").fetchall()
        return [_entry(row) for row in rows]

    def pending(self) -> list[OutboxEntry]:
        """Rows still to send (queued or sent without an answer), oldest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state != 'failed' ORDER BY position"
        ).fetchall()
        return [_entry(row) for row in rows]

    def pending_count(self) -> int:
        row = self._db.execute("SELECT count(*) FROM outbox WHERE state != 'failed'").fetchone()
        return int(row[0])
