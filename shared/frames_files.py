"""Frames that move files over the WebSocket, in chunks, resumably.

Upload: ``upload_start`` names the file (room, name, size, SHA-256, type) and the
server answers ``upload_ready`` with the upload's id and how many bytes it already
holds (non-zero when an earlier attempt of the same file by the same user was cut
off: send from there). Each ``upload_chunk`` is answered by ``upload_progress``;
the last one by ``upload_done`` with the stored file's id, once its SHA-256 was
checked. A message then carries the file: ``send`` with ``file`` set.

Download: ``download`` asks for ``length`` bytes at ``offset`` of a file in a room
one is a member of; ``file_chunk`` answers with them (``eof`` on the last), so a
cut-off download resumes by asking from where it stopped.

``data`` is bytes, base64 in JSON; a chunk holds at most ``limits.file_chunk``
bytes so that its frame fits ``limits.max_frame``.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from shared.frame_base import MAX_ID, Frame, Rid, RoomId
from shared.shapes import FileInfo

__all__ = [
    "Download",
    "FileChunk",
    "UploadChunk",
    "UploadDone",
    "UploadProgress",
    "UploadReady",
    "UploadStart",
]

FileName = Annotated[str, Meta(min_length=1, max_length=255)]
"""As the uploader named it; the server keeps a sanitised form (no path parts, no
control or bidi characters) and never uses it as a path."""
Sha256Hex = Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]
UploadId = Annotated[str, Meta(min_length=1, max_length=64)]
FileId = Annotated[int, Meta(ge=1, le=MAX_ID)]
Offset = Annotated[int, Meta(ge=0, le=MAX_ID)]
Mime = Annotated[str, Meta(max_length=127)]
ChunkData = Annotated[bytes, Meta(max_length=4 * 1024 * 1024)]

# --------------------------------------------------------------------------- commands


class UploadStart(Frame, tag="upload_start"):
    room: RoomId
    name: FileName
    size: Offset
    sha256: Sha256Hex
    mime: Mime = "application/octet-stream"
    rid: Rid | None = None


class UploadChunk(Frame, tag="upload_chunk"):
    """``offset`` must equal the bytes the server holds (``upload_ready.offset`` or
    the last ``upload_progress.received``); anything else is ``upload_offset``."""

    upload: UploadId
    offset: Offset
    data: ChunkData
    rid: Rid | None = None


class Download(Frame, tag="download"):
    file: FileId
    offset: Offset = 0
    length: Annotated[int, Meta(ge=1, le=4 * 1024 * 1024)] = 65_536
    """Capped by the server at ``limits.file_chunk``."""
    rid: Rid | None = None


# ----------------------------------------------------------------------------- events


class UploadReady(Frame, tag="upload_ready"):
    upload: str
    offset: int
    """Bytes already held: send the rest from here."""
    chunk_size: int
    rid: str | None = None


class UploadProgress(Frame, tag="upload_progress"):
    upload: str
    received: int
    rid: str | None = None


class UploadDone(Frame, tag="upload_done"):
    upload: str
    file: FileInfo
    rid: str | None = None


class FileChunk(Frame, tag="file_chunk"):
    file: FileInfo
    offset: int
    data: bytes
    eof: bool = False
    rid: str | None = None
