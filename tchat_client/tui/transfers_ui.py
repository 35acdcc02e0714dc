"""Files in the TUI: ``/upload PATH [caption]`` and ``download_file`` for a selected
file card, each with a progress line ("Uploading report.pdf 45% · 1.2/2.6 MB") and
a clear sentence when the server refuses (too large, quota, not a member).

The transfer itself is the client core's (``client.files``); this module shows it.
Downloads go to the app's ``downloads_dir`` when set (tests inject a folder), else
the platform's download folder (``~/Downloads`` when there is none).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs

from tchat_client.core import ClientError
from tchat_client.core.models import FileCard
from tchat_client.sanitize import visible_line
from tchat_client.tui.slash import SlashError, usage

__all__ = [
    "default_downloads_dir",
    "download_file",
    "downloads_dir",
    "human_size",
    "progress_text",
    "split_upload_args",
    "upload_file",
]


def default_downloads_dir() -> Path:
    """The user's download folder (XDG on Linux), or ``~/Downloads``."""
    try:
        return Path(platformdirs.user_downloads_dir())
    except Exception:
        return Path.home() / "Downloads"


def downloads_dir(app: object) -> Path:
    """Where downloads go: the app's ``downloads_dir`` if it has one."""
    chosen = getattr(app, "downloads_dir", None)
    return Path(chosen) if chosen else default_downloads_dir()


def human_size(size: float) -> str:
    """``512 B``, ``1.2 KB``, ``2.6 MB``, ``1.1 GB`` (powers of 1024)."""
    if size < 1024:
        return f"{int(size)} B"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}"
    return f"{size:.1f} GB"


def progress_text(verb: str, name: str, done: int, total: int) -> str:
    """ "Uploading report.pdf 45% · 1.2/2.6 MB"."""
    percent = 100 if total <= 0 else min(100, done * 100 // total)
    whole = human_size(total)
    unit = whole.split()[-1]
    part = human_size(done)
    part = part.split()[0] if part.split()[-1] == unit else part
    return f"{verb} {name} {percent}% · {part}/{whole}"


def split_upload_args(rest: str) -> tuple[Path, str]:
    """``/upload`` arguments: (path, caption). A path with spaces is quoted
    (``/upload "my report.pdf" here it is``) or is the whole line; ``~`` expands.

    Raises:
        SlashError: no path given, or unbalanced quotes.
    """
    rest = rest.strip()
    if not rest:
        raise SlashError(usage("upload"))
    whole = Path(rest).expanduser()
    if whole.is_file():
        return whole, ""
    if rest[0] in "'\"":
        try:
            words = shlex.split(rest)
        except ValueError as exc:
            raise SlashError(f"/upload: {exc}") from exc
        quoted = rest[1:].index(rest[0]) + 2
        return Path(words[0]).expanduser(), rest[quoted:].strip()
    path, _, caption = rest.partition(" ")
    return Path(path).expanduser(), caption.strip()


def _refusal(exc: ClientError, name: str, client: Any) -> str:
    """The server's refusal in words that say what to do."""
    code = getattr(exc, "code", "")
    if code == "file_too_large":
        limits = getattr(client.state, "limits", None)
        most = getattr(limits, "max_file", 0)
        biggest = f" (at most {human_size(most)})" if most else ""
        return f"{name} is too large to send{biggest}"
    if code == "quota_exceeded":
        return f"{name} would pass your storage quota on the server: {exc}"
    return f"{name}: {exc}"


class _Progress:
    """Feeds one transfer's progress to the screen's hint line (or nowhere)."""

    def __init__(self, screen: Any, key: str, verb: str, name: str) -> None:
        self._show: Callable[[str, str | None], None] | None = getattr(
            screen, "show_progress", None
        )
        self._key, self._verb, self._name = key, verb, name
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total <= 0 else done * 100 // total
        if percent != self._last and self._show is not None:
            self._last = percent
            self._show(self._key, progress_text(self._verb, self._name, done, total))

    def done(self) -> None:
        if self._show is not None:
            self._show(self._key, None)


def _file_size(path: Path) -> int | None:
    """The size of a regular file; None when there is none to read."""
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


async def upload_file(screen: Any, client: Any, room_id: int, path: Path, caption: str) -> None:
    """Upload ``path`` to the room, then post it with ``caption``; every failure
    becomes an error toast (the server's reason when it refused)."""
    name = visible_line(path.name)
    size = _file_size(path)
    if size is None:
        screen.notify(f"No such file: {visible_line(str(path))}", severity="error")
        return
    progress = _Progress(screen, f"up:{path}", "Uploading", name)
    progress(0, size)
    try:
        card = await client.files.upload(room_id, path, on_progress=progress)
        client.send(room_id, caption, file_id=card.id)
    except ClientError as exc:
        screen.notify(_refusal(exc, name, client), title="Upload failed", severity="error")
    except OSError as exc:
        screen.notify(f"Cannot read {name}: {exc.strerror}", severity="error")
    finally:
        progress.done()


async def download_file(
    screen: Any, client: Any, card: FileCard, dest_dir: Path | None = None
) -> None:
    """Download a message's file into the downloads folder with a progress line,
    then say where it went (the transcript calls this on a selected file card)."""
    folder = dest_dir or downloads_dir(screen.app)
    name = visible_line(card.name)
    progress = _Progress(screen, f"down:{card.id}", "Downloading", name)
    progress(0, card.size)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = await client.files.download(card.id, folder, on_progress=progress)
    except ClientError as exc:
        screen.notify(f"{name}: {exc}", title="Download failed", severity="error")
        return
    except OSError as exc:
        screen.notify(f"Cannot write to {folder}: {exc.strerror}", severity="error")
        return
    finally:
        progress.done()
    screen.notify(visible_line(str(path)), title=f"Downloaded {human_size(card.size)}", timeout=10)
