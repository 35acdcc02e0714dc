"""File uploads and downloads over the client's connection, in chunks, resumable.

Reached as ``client.files``. Progress is reported through a callback so that the
CLI can print a bar and the TUI can show one; nothing here knows either.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tchat_client.core.models import FileCard

if TYPE_CHECKING:
    from tchat_client.core.client import Client

__all__ = ["Progress", "Transfers"]

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) after each chunk."""


class Transfers:
    def __init__(self, client: Client) -> None:
        self._client = client

    async def upload(
        self, room_id: int, path: Path, *, on_progress: Progress | None = None
    ) -> FileCard:
        """Upload a file to a room (not yet posted: send a message with
        ``file_id=card.id``). Resumes an interrupted upload of the same file.

        Raises:
            RequestFailed: file_too_large, quota_exceeded, not_member, file_corrupt.
        """
        raise NotImplementedError

    async def download(
        self, file_id: int, dest: Path, *, on_progress: Progress | None = None
    ) -> Path:
        """Download a file to ``dest`` (a folder: the file's sanitised name in it),
        resuming a partial ``.part`` file, verifying its SHA-256; returns the path.

        Raises:
            RequestFailed: file_not_found (unknown, or not in one of your rooms).
        """
        raise NotImplementedError
