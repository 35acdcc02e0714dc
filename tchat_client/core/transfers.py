"""File uploads and downloads over the client's connection, in chunks, resumable.

Reached as ``client.files``. Progress is reported through a callback so that the
CLI can print a bar and the TUI can show one; nothing here knows either.

An upload hashes the file first (the server checks the SHA-256 once the last byte
is in), announces it, then keeps a few chunks in flight. After a drop it waits for
the connection to come back and announces the file again: the server answers with
the bytes it already holds, and the upload goes on from there. A download asks
for a few chunks at a time, appends them to a hidden ``.part`` file beside the
destination (kept across attempts, so a later call resumes it), checks the
SHA-256 and only then renames the part into place.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import mimetypes
import os
import re
import shutil
import unicodedata
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared import frames as wire
from shared.errors import ErrorCode
from tchat_client.core.errors import ConnectionLost, NotConnected, RequestFailed
from tchat_client.core.models import FileCard

if TYPE_CHECKING:
    from tchat_client.core.client import Client

__all__ = ["Progress", "Transfers", "safe_file_name"]

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) after each chunk."""

WINDOW = 4
"""Chunks in flight at once: enough to hide the round trip, few enough to stop
soon when one is refused."""
MAX_RESTARTS = 50
"""Times an upload is announced again (after drops or refusals) before giving up."""
_READ = 1024 * 1024
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_RESERVED = frozenset('<>:"|?*')
_WINDOWS_DEVICES = frozenset(
    {
        "con",
        "prn",
        "aux",
        "nul",
        *(f"com{n}" for n in range(1, 10)),
        *(f"lpt{n}" for n in range(1, 10)),
    }
)
"""Names Windows treats as devices whatever their extension (``NUL.txt`` too)."""
_SHA256 = re.compile(r"[0-9a-f]{64}")


def safe_file_name(name: str) -> str:
    """A name the server gave, made safe to create in a folder of the user's: no
    path parts, control, bidi or zero-width characters, reserved characters or
    leading dots (no hidden files, no ``..``), at most 200 bytes, never empty."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(
        "_" if ch in _RESERVED else ch for ch in text if unicodedata.category(ch) not in _UNSAFE
    )
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".").strip()
    stem, dot, ext = text.rpartition(".")
    if not (dot and stem and len(ext.encode()) <= 16):
        stem, dot, ext = text, "", ""
    while len((stem + dot + ext).encode()) > 200:
        stem = stem[:-1]
    text = (stem.rstrip() + dot + ext).strip().rstrip(".")
    if text.split(".", 1)[0].strip().casefold() in _WINDOWS_DEVICES:
        text = "_" + text
    return text or "file"


def _wire_name(name: str) -> str:
    """The local name as the server is told it: valid UTF-8 (a name of undecodable
    bytes has them replaced), NFC, at most 255 characters (the server sanitises)."""
    text = name.encode("utf-8", "replace").decode("utf-8")
    return unicodedata.normalize("NFC", text)[:255] or "file"


def _digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        while block := source.read(_READ):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _read(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as source:
        source.seek(offset)
        return source.read(length)


def _card(info: wire.FileInfo) -> FileCard:
    return FileCard(id=info.id, name=info.name, size=info.size, mime=info.mime, sha256=info.sha256)


class Transfers:
    def __init__(self, client: Client) -> None:
        self._client = client

    # ------------------------------------------------------------ upload

    async def upload(
        self, room_id: int, path: Path, *, on_progress: Progress | None = None
    ) -> FileCard:
        """Upload a file to a room (not yet posted: send a message with
        ``file_id=card.id``). Resumes an interrupted upload of the same file.

        Raises:
            OSError: the file cannot be read.
            RequestFailed: file_too_large, quota_exceeded, not_member, file_corrupt
                (the file changed while it was sent).
        """
        size, sha256 = await asyncio.to_thread(_digest, path)
        limits = self._client.state.limits
        if limits is not None and limits.max_file and size > limits.max_file:
            raise RequestFailed(
                ErrorCode.FILE_TOO_LARGE,
                f"a file has at most {limits.max_file} bytes (this one has {size})",
            )
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        start = wire.UploadStart(
            room=room_id,
            name=_wire_name(path.name),
            size=size,
            sha256=sha256,
            mime=mime[:127],
        )
        restarts = 0
        while True:
            ready = await self._client.call(start, wire.UploadReady)
            if on_progress is not None:
                on_progress(ready.offset, size)
            try:
                done = await self._send_chunks(path, size, ready, on_progress)
            except (ConnectionLost, NotConnected):
                pass  # announce it again once connected: the server says where to go on
            except RequestFailed as exc:
                if exc.code == ErrorCode.RATE_LIMITED:
                    await asyncio.sleep(exc.retry_after or 1.0)
                elif exc.code not in {ErrorCode.UPLOAD_OFFSET, ErrorCode.FILE_NOT_FOUND}:
                    raise
            else:
                return _card(done.file)
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise RequestFailed(ErrorCode.UNAVAILABLE, "the upload keeps failing; try later")

    async def _send_chunks(
        self, path: Path, size: int, ready: wire.UploadReady, on_progress: Progress | None
    ) -> wire.UploadDone:
        step = max(1, ready.chunk_size)
        offsets = list(range(ready.offset, size, step)) or [size]  # empty: finish at `size`
        in_flight: deque[asyncio.Task[wire.UploadProgress | wire.UploadDone]] = deque()
        try:
            for index, offset in enumerate(offsets):
                data = await asyncio.to_thread(_read, path, offset, step) if offset < size else b""
                if len(data) != min(step, size - offset):
                    raise RequestFailed(
                        ErrorCode.FILE_CORRUPT, f"{path.name} changed while it was being sent"
                    )
                last = index == len(offsets) - 1
                chunk = wire.UploadChunk(upload=ready.upload, offset=offset, data=data)
                answer: type[wire.UploadProgress | wire.UploadDone] = (
                    wire.UploadDone if last else wire.UploadProgress
                )
                in_flight.append(
                    asyncio.ensure_future(self._client.call(chunk, answer, retry=False))
                )
                while len(in_flight) >= WINDOW or (last and in_flight):
                    result = await in_flight.popleft()
                    if isinstance(result, wire.UploadDone):
                        if on_progress is not None:
                            on_progress(size, size)
                        return result
                    if on_progress is not None:
                        on_progress(result.received, size)
        finally:
            await _cancel(in_flight)
        raise RequestFailed(ErrorCode.INTERNAL, "the upload ended without an answer")

    # ---------------------------------------------------------- download

    async def download(
        self, file_id: int, dest: Path, *, on_progress: Progress | None = None
    ) -> Path:
        """Download a file to ``dest`` (a folder: the file's sanitised name in it, never
        replacing a file there; otherwise the path to write), resuming a partial
        ``.part`` file, verifying its SHA-256; returns the path.

        Raises:
            RequestFailed: file_not_found (unknown, or not in one of your rooms),
                file_corrupt (the bytes received do not match: the part is removed).
            OSError: the destination cannot be written.
        """
        first = await self._client.call(wire.Download(file=file_id, length=1), wire.FileChunk)
        info = first.file
        into_folder, part, held = await asyncio.to_thread(_prepare, dest, info)
        limits = self._client.state.limits
        step = limits.file_chunk if limits is not None and limits.file_chunk else 32 * 1024
        if on_progress is not None:
            on_progress(held, info.size)
        await self._fetch(file_id, part, held, info.size, step, on_progress)
        size, digest = await asyncio.to_thread(_digest, part)
        if size != info.size or digest != info.sha256:
            await asyncio.to_thread(part.unlink, missing_ok=True)
            raise RequestFailed(
                ErrorCode.FILE_CORRUPT, "the downloaded bytes do not match the file's SHA-256"
            )
        return await asyncio.to_thread(_place, part, dest, into_folder, info.name)

    async def _fetch(
        self,
        file_id: int,
        part: Path,
        held: int,
        size: int,
        step: int,
        on_progress: Progress | None,
    ) -> None:
        offsets = deque(range(held, size, step))
        in_flight: deque[asyncio.Task[wire.FileChunk]] = deque()
        # Written from a thread (a slow disk must not stall the event loop, which
        # may be a TUI's); opened without following a symlink planted at its name.
        out = await asyncio.to_thread(_open_part, part)
        try:
            written = held
            while offsets or in_flight:
                while offsets and len(in_flight) < WINDOW:
                    ask = wire.Download(file=file_id, offset=offsets.popleft(), length=step)
                    in_flight.append(asyncio.ensure_future(self._client.call(ask, wire.FileChunk)))
                chunk = await in_flight.popleft()
                if chunk.offset != written or not chunk.data or len(chunk.data) > step:
                    raise RequestFailed(ErrorCode.INTERNAL, "the server sent a wrong chunk")
                await asyncio.to_thread(_write_all, out, chunk.data)
                written += len(chunk.data)
                if on_progress is not None:
                    on_progress(written, size)
            await asyncio.to_thread(os.fsync, out)
        finally:
            await _cancel(in_flight)
            os.close(out)


async def _cancel(tasks: deque[asyncio.Task[Any]]) -> None:
    """Cancel requests still in flight and wait for them (their errors are moot)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _prepare(dest: Path, info: wire.FileInfo) -> tuple[bool, Path, int]:
    """Whether ``dest`` is a folder, the part file to fill, and the bytes it holds.

    Raises:
        RequestFailed: the server's description of the file is not valid (its
            SHA-256 names the part file and is the only proof of the bytes).
        FileExistsError: ``dest`` names a file that exists (never replaced).
        OSError: the disk has no room for the file (checked before any byte comes).
    """
    if not _SHA256.fullmatch(info.sha256) or info.size < 0:
        raise RequestFailed(ErrorCode.INTERNAL, "the server described the file wrongly")
    into_folder = dest.is_dir()
    if not into_folder and (dest.exists() or dest.is_symlink()):
        raise FileExistsError(f"{dest} exists already: choose another name or a folder")
    folder = dest if into_folder else dest.parent
    part = folder / f".{safe_file_name(info.name)[:120]}.{info.sha256[:16]}.part"
    if part.is_symlink() or (part.exists() and not part.is_file()):
        part.unlink()  # not ours: never write through it
    held = part.stat().st_size if part.exists() else 0
    if held > info.size:
        part.unlink()
        held = 0
    if shutil.disk_usage(folder).free < info.size - held:
        raise OSError(errno.ENOSPC, f"not enough free space in {folder} for {info.size} bytes")
    return into_folder, part, held


def _open_part(part: Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    return os.open(part, flags, 0o600)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _place(part: Path, dest: Path, into_folder: bool, name: str) -> Path:
    """Rename the verified part to its final name, never over an existing file: the
    name is first claimed with an exclusive create, then the part replaces that
    empty claim (so a file appearing meanwhile is not overwritten either)."""
    if not into_folder:
        _claim(dest)
        os.replace(part, dest)
        return dest
    name = safe_file_name(name)
    stem, dot, ext = name.rpartition(".")
    if not (dot and stem):
        stem, dot, ext = name, "", ""
    number = 0
    while True:
        candidate = dest / (name if number == 0 else f"{stem} ({number}){dot}{ext}")
        try:
            _claim(candidate)
        except FileExistsError:
            number += 1
            continue
        os.replace(part, candidate)
        return candidate


def _claim(path: Path) -> None:
    """Create ``path`` empty, failing if anything (a file, a symlink) is there."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
