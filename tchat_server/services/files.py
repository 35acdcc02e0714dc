"""The rules of files: who may upload where, how much, and who may read what.

An upload is announced (``upload_start``: room, name, size, SHA-256), then sent in
chunks that must each start exactly where the bytes held end, so a cut-off upload
resumes from the part on disk and nothing is ever written twice or skipped. Once
the last byte is in, the part is hashed from disk: a mismatch discards it
(``file_corrupt``), a match moves it into the content-addressed store and makes
it a file of the room it was uploaded to. Only that room's members can read it;
anyone else is told ``file_not_found``, exactly as for a file that does not exist.

A zero-byte file is uploaded like any other: ``upload_start``, then one empty
``upload_chunk`` at offset 0, answered by ``upload_done``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from shared.errors import ErrorCode, ProtocolError
from shared.shapes import FileInfo
from tchat_server.blobs import BlobStore
from tchat_server.hub import Hub
from tchat_server.services.limits import KeyedLocks
from tchat_server.services.rooms import RoomService
from tchat_server.storage.files import FileRow, FileStore, UploadRow

__all__ = [
    "STALE_UPLOAD",
    "ChunkResult",
    "FileService",
    "chunk_size_for",
    "sanitize_mime",
    "sanitize_name",
    "to_file_info",
]

log = logging.getLogger("tchat.server")

STALE_UPLOAD = 24 * 3600.0
"""Seconds an upload may sit untouched before the server forgets it."""
SWEEP_EVERY = 3600.0
"""Seconds between sweeps of stale uploads while the server runs."""
MAX_OPEN_UPLOADS = 100
"""Unfinished uploads one user may hold at once."""
NOTE_EVERY = 1.0
"""Seconds between writes of an upload's progress to the database (the part's
size on disk is the truth; the row only dates the upload for the stale sweep)."""
FRAME_OVERHEAD = 512
DISK_RESERVE = 256 * 1024 * 1024
"""Bytes an upload must leave free on the disk: per-user quotas do not bound the
sum over many users, and a full disk would stop the database (every message) too."""
"""Bytes of an ``upload_chunk`` frame that are not its data (type, upload id, offset, rid)."""

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Control, format (bidi, zero-width, BOM), surrogate and line/paragraph separators."""
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
DEFAULT_MIME = "application/octet-stream"


def chunk_size_for(max_frame: int) -> int:
    """The most file bytes per chunk whose frame (base64 in JSON) fits ``max_frame``;
    a multiple of 1 KiB when that much fits."""
    raw = (max(0, max_frame - FRAME_OVERHEAD) // 4) * 3
    return raw - raw % 1024 if raw >= 1024 else max(raw, 1)


def sanitize_name(name: str) -> str:
    """A file name safe to show and to offer as a file name: the last path part,
    NFC, without control, bidi or zero-width characters, at most 255 characters
    (the extension kept), never empty, ``.`` or ``..``."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip()
    text = unicodedata.normalize("NFC", text)
    if len(text) > 255:
        stem, dot, ext = text.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            text = stem[: 255 - len(ext) - 1].rstrip() + "." + ext
        else:
            text = text[:255].rstrip()
    if text in {"", ".", ".."}:
        return "file"
    return text


def sanitize_mime(mime: str) -> str:
    """``type/subtype`` in lower case without parameters, or ``application/octet-stream``."""
    text = mime.split(";", 1)[0].strip().lower()
    return text if _MIME.fullmatch(text) else DEFAULT_MIME


def to_file_info(row: FileRow) -> FileInfo:
    return FileInfo(id=row.id, name=row.name, size=row.size, mime=row.mime, sha256=row.sha256)


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """After a chunk: the bytes now held, and the file once the upload is complete."""

    received: int
    file: FileRow | None = None


class FileService:
    def __init__(
        self,
        store: FileStore,
        blobs: BlobStore,
        rooms: RoomService,
        hub: Hub,
        *,
        max_file: int,
        quota: int,
        chunk_size: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._rooms = rooms
        self._hub = hub
        self.max_file = max_file
        self.quota = quota
        self.chunk_size = chunk_size
        self._clock = clock
        self.disk_reserve = DISK_RESERVE
        self._locks = KeyedLocks()
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Forget stale uploads now (and parts that belong to no upload), then once
        an hour while the server runs."""
        await self.sweep()
        known = await self._store.upload_ids()
        orphans = [i for i in await asyncio.to_thread(self._blobs.part_ids) if i not in known]
        for upload_id in orphans:
            await asyncio.to_thread(self._blobs.drop_part, upload_id)
        if orphans:
            log.info("dropped %d part(s) of no upload", len(orphans))
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_hourly())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None

    async def sweep(self) -> int:
        """Drop the uploads untouched for ``STALE_UPLOAD`` seconds; returns how many."""
        stale = await self._store.stale_uploads(self._clock() - STALE_UPLOAD)
        for upload_id in stale:
            async with self._locks.hold(upload_id):
                await self._store.delete_uploads([upload_id])
                await asyncio.to_thread(self._blobs.drop_part, upload_id)
        if stale:
            log.info("dropped %d stale upload(s)", len(stale))
        return len(stale)

    async def _sweep_hourly(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweeping stale uploads failed")

    # ------------------------------------------------------------- upload

    async def upload_start(
        self, user_id: int, room_id: int, name: str, size: int, sha256: str, mime: str
    ) -> tuple[str, int]:
        """The upload's id and the bytes already held (resuming the user's unfinished
        upload of the same content to the same room).

        Raises:
            ProtocolError: room_not_found, not_member, muted, room_locked,
                file_too_large, quota_exceeded, unavailable (the disk is nearly full).
        """
        await self._rooms.require_member(room_id, user_id)
        # Whoever may not post there may not fill the room's files either (any
        # member can read a file of the room by its id, posted or not).
        self._rooms.permissions.check_post(room_id, user_id)
        if self.max_file <= 0:
            raise ProtocolError(ErrorCode.FILE_TOO_LARGE, "this server does not accept files")
        if size > self.max_file:
            raise ProtocolError(
                ErrorCode.FILE_TOO_LARGE,
                f"a file has at most {self.max_file} bytes (this one has {size})",
            )
        free = await asyncio.to_thread(self._blobs.free_bytes)
        if free - size < self.disk_reserve:
            log.warning(
                "upload of %d bytes refused: %d bytes free on disk",
                size,
                free,
                extra={"event": "disk_low", "bytes": size, "free": free},
            )
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, "the server is short of disk space; try later"
            )
        now = self._clock()
        new = UploadRow(
            id=secrets.token_urlsafe(18),
            user_id=user_id,
            room_id=room_id,
            name=sanitize_name(name),
            mime=sanitize_mime(mime),
            size=size,
            sha256=sha256,
            received=0,
            created_at=now,
            updated_at=now,
        )
        result = await self._store.start_upload(new, self.quota, MAX_OPEN_UPLOADS)
        if result.upload is None:
            if result.too_many:
                raise ProtocolError(
                    ErrorCode.QUOTA_EXCEEDED,
                    f"you have {MAX_OPEN_UPLOADS} unfinished uploads: finish one first",
                )
            raise ProtocolError(
                ErrorCode.QUOTA_EXCEEDED,
                f"this file ({size} bytes) would take you past your quota "
                f"({result.used} of {self.quota} bytes used)",
            )
        upload = result.upload
        if not result.resumed:
            return upload.id, 0
        async with self._locks.hold(upload.id):
            if await self._store.get_upload(upload.id) is None:
                gone = True  # finished (or swept) while we waited: a new upload
            else:
                gone = False
                held = await asyncio.to_thread(self._blobs.part_size, upload.id)
                await self._store.note_received(upload.id, held, now)
        if gone:
            return await self.upload_start(user_id, room_id, name, size, sha256, mime)
        return upload.id, min(held, upload.size)

    async def upload_chunk(
        self, user_id: int, upload_id: str, offset: int, data: bytes
    ) -> ChunkResult:
        """Append a chunk; on the last byte, verify and store the file.

        Raises:
            ProtocolError: file_not_found (no such upload of this user),
                not_member, upload_offset, bad_frame (too big, past the end),
                file_corrupt (discarded), unavailable (the disk refused).
        """
        if len(data) > self.chunk_size:
            raise ProtocolError(
                ErrorCode.BAD_FRAME, f"a chunk holds at most {self.chunk_size} bytes"
            )
        async with self._locks.hold(upload_id):
            upload = await self._store.get_upload(upload_id)
            if upload is None or upload.user_id != user_id:
                raise ProtocolError(ErrorCode.FILE_NOT_FOUND, "no such upload: start it again")
            if not self._hub.is_member(upload.room_id, user_id):
                raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")
            if offset + len(data) > upload.size:
                raise ProtocolError(
                    ErrorCode.BAD_FRAME, f"this chunk goes past the file's {upload.size} bytes"
                )
            held = await self._write(upload, offset, data)
            if held < upload.size:
                now = self._clock()
                if now - upload.updated_at >= NOTE_EVERY:
                    await self._store.note_received(upload.id, held, now)
                return ChunkResult(held)
            return ChunkResult(held, await self._finish(upload))

    async def _write(self, upload: UploadRow, offset: int, data: bytes) -> int:
        def write() -> int:
            held = self._blobs.part_size(upload.id)
            if held != offset:
                return -1 - held
            return self._blobs.append(upload.id, offset, data)  # creates an empty part too

        try:
            result = await asyncio.to_thread(write)
        except OSError as exc:
            log.warning("could not write upload %s: %s", upload.id, exc)
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, "the server cannot store that right now; retry"
            ) from None
        if result < 0:
            held = -1 - result
            raise ProtocolError(
                ErrorCode.UPLOAD_OFFSET,
                f"this upload holds {held} bytes: send from offset {held}",
            )
        return result

    async def _finish(self, upload: UploadRow) -> FileRow:
        digest = await asyncio.to_thread(self._blobs.part_sha256, upload.id)
        if digest != upload.sha256:
            await self._store.delete_upload(upload.id)
            await asyncio.to_thread(self._blobs.drop_part, upload.id)
            raise ProtocolError(
                ErrorCode.FILE_CORRUPT,
                "the bytes received do not have the SHA-256 announced: upload discarded",
            )
        try:
            await asyncio.to_thread(self._blobs.adopt, upload.id, upload.sha256, upload.size)
        except OSError as exc:
            log.warning("could not store upload %s: %s", upload.id, exc)
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, "the server cannot store that right now; retry"
            ) from None
        row = await self._store.finish_upload(upload, self._clock())
        log.info(
            "file %d stored (%d bytes) in room %d",
            row.id,
            row.size,
            row.room_id,
            extra={"event": "file_stored", "file": row.id, "bytes": row.size},
        )
        return row

    # ----------------------------------------------------------- download

    async def readable(self, user_id: int, file_id: int) -> FileRow:
        """A file the user may read (a member of its room; not taken away with
        the deletion of every message that carried it).

        Raises:
            ProtocolError: file_not_found, for an unknown file, a deleted one and
                one in a room the user is not in alike.
        """
        row = await self._store.get_live_file(file_id)
        if row is None or not self._hub.is_member(row.room_id, user_id):
            raise ProtocolError(ErrorCode.FILE_NOT_FOUND, "no such file in your rooms")
        return row

    async def download(
        self, user_id: int, file_id: int, offset: int, length: int
    ) -> tuple[FileRow, bytes, bool]:
        """``length`` bytes (at most a chunk) at ``offset``, and whether they end the file.

        Raises:
            ProtocolError: file_not_found, bad_frame (offset past the end),
                unavailable (the stored bytes are missing or damaged).
        """
        row = await self.readable(user_id, file_id)
        if offset > row.size:
            raise ProtocolError(ErrorCode.BAD_FRAME, f"the file has only {row.size} bytes")
        want = min(length, self.chunk_size, row.size - offset)

        def read() -> bytes | None:
            if self._blobs.blob_size(row.sha256) != row.size:
                return None
            return self._blobs.read(row.sha256, offset, want) if want else b""

        try:
            data = await asyncio.to_thread(read)
        except OSError:
            data = None
        if data is None or len(data) != want:
            log.error(
                "file %d: stored blob %s is missing or damaged",
                row.id,
                row.sha256,
                extra={"event": "file_damaged", "file": row.id},
            )
            raise ProtocolError(ErrorCode.UNAVAILABLE, "the server cannot read that file now")
        return row, data, offset + want >= row.size

    # ----------------------------------------------------------- messages

    async def check_attach(self, file_id: int, room_id: int, user_id: int) -> None:
        """For ``send`` with ``file``: the file must have been uploaded to that room
        (and not taken away with the deletion of the messages that carried it).

        Raises:
            ProtocolError: file_not_found.
        """
        row = await self._store.get_live_file(file_id)
        if row is None or row.room_id != room_id or not self._hub.is_member(room_id, user_id):
            raise ProtocolError(ErrorCode.FILE_NOT_FOUND, "no such file in that room")

    async def file_info(self, file_id: int) -> FileInfo | None:
        row = await self._store.get_file(file_id)
        return to_file_info(row) if row is not None else None
