"""All SQL about files: finished files (``files``) and uploads in progress (``uploads``).

Starting an upload is one write transaction: the check for an unfinished upload of
the same content (to resume it), the quota sum and the insert happen together, so
two uploads started at once cannot both slip under the quota.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from tchat_server.storage.db import Database

__all__ = ["FileRow", "FileStore", "StartResult", "UploadRow"]


@dataclass(frozen=True, slots=True)
class FileRow:
    id: int
    sha256: str
    size: int
    name: str
    mime: str
    room_id: int
    uploader_id: int
    created_at: float


@dataclass(frozen=True, slots=True)
class UploadRow:
    id: str
    user_id: int
    room_id: int
    name: str
    mime: str
    size: int
    sha256: str
    received: int
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class StartResult:
    """The upload to continue (``resumed``: it existed), or None when refused: past
    the quota, or ``too_many`` unfinished uploads. ``used`` is what the user's files
    and uploads hold."""

    upload: UploadRow | None
    resumed: bool
    used: int
    too_many: bool = False


_FILE_COLUMNS = "id, sha256, size, name, mime, room_id, uploader_id, created_at"
_UPLOAD_COLUMNS = "id, user_id, room_id, name, mime, size, sha256, received, created_at, updated_at"


def _file(row: sqlite3.Row) -> FileRow:
    return FileRow(*(row[i] for i in range(8)))


def _upload(row: sqlite3.Row) -> UploadRow:
    return UploadRow(*(row[i] for i in range(10)))


class FileStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_file(self, file_id: int) -> FileRow | None:
        row = await self._db.fetch_one(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE id = ?", (file_id,)
        )
        return _file(row) if row is not None else None

    async def get_live_file(self, file_id: int) -> FileRow | None:
        """The file, unless it was posted and every message carrying it was deleted
        (a moderator's delete takes the file away with the message)."""
        row = await self._db.fetch_one(
            f"SELECT {_FILE_COLUMNS} FROM files f WHERE id = ? AND ("
            "NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = f.id) OR "
            "EXISTS (SELECT 1 FROM messages m WHERE m.file_id = f.id AND m.deleted = 0))",
            (file_id,),
        )
        return _file(row) if row is not None else None

    async def get_upload(self, upload_id: str) -> UploadRow | None:
        row = await self._db.fetch_one(
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE id = ?", (upload_id,)
        )
        return _upload(row) if row is not None else None

    async def usage(self, user_id: int) -> int:
        """Bytes of the user's files plus the announced sizes of their uploads."""
        row = await self._db.fetch_one(_USAGE, (user_id, user_id))
        return int(row[0]) if row is not None else 0

    async def start_upload(self, new: UploadRow, quota: int, max_open: int) -> StartResult:
        """The user's unfinished upload of the same content to the same room, else
        ``new`` inserted when it fits in ``quota`` bytes (its size counted) and the
        user has fewer than ``max_open`` unfinished uploads."""

        def run(conn: sqlite3.Connection) -> StartResult:
            found = conn.execute(
                f"SELECT {_UPLOAD_COLUMNS} FROM uploads "
                "WHERE user_id = ? AND sha256 = ? AND size = ? AND room_id = ? "
                "ORDER BY created_at LIMIT 1",
                (new.user_id, new.sha256, new.size, new.room_id),
            ).fetchone()
            used = int(conn.execute(_USAGE, (new.user_id, new.user_id)).fetchone()[0])
            if found is not None:
                return StartResult(_upload(found), True, used)
            if used + new.size > quota:
                return StartResult(None, False, used)
            (open_count,) = conn.execute(
                "SELECT count(*) FROM uploads WHERE user_id = ?", (new.user_id,)
            ).fetchone()
            if open_count >= max_open:
                return StartResult(None, False, used, too_many=True)
            conn.execute(
                f"INSERT INTO uploads ({_UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.id,
                    new.user_id,
                    new.room_id,
                    new.name,
                    new.mime,
                    new.size,
                    new.sha256,
                    new.received,
                    new.created_at,
                    new.updated_at,
                ),
            )
            return StartResult(new, False, used)

        return await self._db.run_write(run)

    async def note_received(self, upload_id: str, received: int, now: float) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE uploads SET received = ?, updated_at = ? WHERE id = ?",
                (received, now, upload_id),
            )

    async def finish_upload(self, upload: UploadRow, now: float) -> FileRow:
        """The upload becomes a file (one transaction: the file row in, the upload out)."""

        def run(conn: sqlite3.Connection) -> FileRow:
            cursor = conn.execute(
                "INSERT INTO files (sha256, size, name, mime, room_id, uploader_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.sha256,
                    upload.size,
                    upload.name,
                    upload.mime,
                    upload.room_id,
                    upload.user_id,
                    now,
                ),
            )
            conn.execute("DELETE FROM uploads WHERE id = ?", (upload.id,))
            file_id = cursor.lastrowid
            assert file_id is not None
            return FileRow(
                file_id,
                upload.sha256,
                upload.size,
                upload.name,
                upload.mime,
                upload.room_id,
                upload.user_id,
                now,
            )

        return await self._db.run_write(run)

    async def delete_upload(self, upload_id: str) -> None:
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))

    async def stale_uploads(self, before: float) -> list[str]:
        rows = await self._db.fetch_all("SELECT id FROM uploads WHERE updated_at < ?", (before,))
        return [str(row[0]) for row in rows]

    async def upload_ids(self) -> set[str]:
        rows = await self._db.fetch_all("SELECT id FROM uploads")
        return {str(row[0]) for row in rows}

    async def delete_uploads(self, upload_ids: list[str]) -> None:
        if not upload_ids:
            return
        async with self._db.write() as conn:
            await conn.executemany("DELETE FROM uploads WHERE id = ?", [(i,) for i in upload_ids])


_USAGE = (
    "SELECT (SELECT coalesce(sum(size), 0) FROM files WHERE uploader_id = ?)"
    " + (SELECT coalesce(sum(size), 0) FROM uploads WHERE user_id = ?)"
)
