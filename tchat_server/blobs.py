"""The bytes of uploaded files on disk: a content-addressed store and the parts of
uploads in progress.

A finished file lives once per content at ``files/ab/cdef...`` (its SHA-256 split
after two characters, so no folder grows past a few thousand entries); a blob is
never changed once it is in place, which is what lets a backup copy ``files/``
after its database snapshot. An upload in progress is ``uploads/<id>.part``: each
chunk is appended and fsynced before it is acknowledged, so the part's size is
the number of bytes the server holds, even after a crash.

Everything here is blocking file I/O: callers run it with ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from pathlib import Path

__all__ = ["BlobStore"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_READ = 1024 * 1024


class BlobStore:
    """``files_dir`` holds finished blobs, ``uploads_dir`` the parts of uploads."""

    def __init__(self, files_dir: Path, uploads_dir: Path) -> None:
        self.files_dir = files_dir
        self.uploads_dir = uploads_dir

    # ------------------------------------------------------------ blobs

    def blob_path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.files_dir / sha256[:2] / sha256[2:]

    def blob_size(self, sha256: str) -> int | None:
        """The stored blob's size in bytes, or None when it is missing."""
        try:
            return self.blob_path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, sha256: str, offset: int, length: int) -> bytes:
        with self.blob_path(sha256).open("rb") as blob:
            blob.seek(offset)
            return blob.read(length)

    def adopt(self, upload_id: str, sha256: str, size: int) -> None:
        """Move a finished (verified) part into the store under its hash (it was
        fsynced chunk by chunk); when the content is already stored, the part is
        just dropped. A stored blob of the wrong size (damaged on disk) is replaced
        by the verified part, so uploading the file again repairs it."""
        part = self.part_path(upload_id)
        target = self.blob_path(sha256)
        if self.blob_size(sha256) == size:
            part.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        _fsync_file(part)
        os.replace(part, target)
        _fsync_dir(target.parent)
        _fsync_dir(part.parent)

    def free_bytes(self) -> int:
        """Bytes free on the disk that holds the uploads (and, normally, the database)."""
        folder = self.uploads_dir
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        return shutil.disk_usage(folder).free

    # ------------------------------------------------------------ parts

    def part_path(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(f"not an upload id: {upload_id!r}")
        return self.uploads_dir / f"{upload_id}.part"

    def part_size(self, upload_id: str) -> int:
        """Bytes held for an upload (0 when its part does not exist yet)."""
        try:
            return self.part_path(upload_id).stat().st_size
        except FileNotFoundError:
            return 0

    def append(self, upload_id: str, offset: int, data: bytes) -> int:
        """Write ``data`` at ``offset`` of the part (cutting off anything past it,
        e.g. the unsynced tail a crash left) and fsync; returns the part's size."""
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.part_path(upload_id), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        return offset + len(data)

    def part_sha256(self, upload_id: str) -> str:
        digest = hashlib.sha256()
        with self.part_path(upload_id).open("rb") as part:
            while block := part.read(_READ):
                digest.update(block)
        return digest.hexdigest()

    def drop_part(self, upload_id: str) -> None:
        with contextlib.suppress(ValueError):
            self.part_path(upload_id).unlink(missing_ok=True)

    def part_ids(self) -> list[str]:
        """The ids of every part on disk (to find orphans)."""
        if not self.uploads_dir.is_dir():
            return []
        return [p.name.removesuffix(".part") for p in self.uploads_dir.glob("*.part")]


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (not possible on every platform)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
