"""``tchat upload TARGET PATH`` and ``tchat download FILE_ID [DEST]``.

An upload is posted at once: the file goes up (resuming after a drop), then a
message carrying its card goes to TARGET. stdout gets the file's id (a JSON
object with ``--json``); a progress line goes to stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

from tchat_client.commands.common import connected, find_room
from tchat_client.core.transfers import Progress
from tchat_client.exits import ExitCode, Failure
from tchat_client.sanitize import visible_line

__all__ = ["download", "upload"]


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover


def _progress(label: str) -> tuple[Progress | None, list[bool]]:
    """A progress line on stderr (only when it is a terminal), at most 10 a second;
    the list says whether anything was drawn (to end the line)."""
    drawn = [False]
    if not sys.stderr.isatty():
        return None, drawn
    shown = visible_line(label)
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 0.1:
            return
        last[0] = now
        percent = 100 * done // total if total else 100
        sys.stderr.write(f"\r{shown}: {percent:3d}% ({_size(done)} of {_size(total)})\x1b[K")
        sys.stderr.flush()
        drawn[0] = True

    return report, drawn


def _end_line(drawn: list[bool]) -> None:
    if drawn[0]:
        sys.stderr.write("\n")
        sys.stderr.flush()


async def upload(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not await asyncio.to_thread(path.is_file):
        raise Failure(ExitCode.ERROR, f"no file at {path}")
    async with connected(args) as client:
        room = find_room(client, args.target)
        on_progress, drawn = _progress(path.name)
        try:
            card = await client.files.upload(room.id, path, on_progress=on_progress)
        finally:
            _end_line(drawn)
        cid = client.send(room.id, args.message or "", file_id=card.id)
        async with asyncio.timeout(args.timeout):
            ack = await client.wait_delivered(cid)
    if args.json:
        print(
            json.dumps(
                {
                    "file_id": card.id,
                    "name": card.name,
                    "size": card.size,
                    "mime": card.mime,
                    "sha256": card.sha256,
                    "room": ack.room,
                    "room_name": room.label,
                    "seq": ack.seq,
                    "id": ack.id,
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
        )
    else:
        print(card.id)
    return ExitCode.OK


async def download(args: argparse.Namespace) -> int:
    dest = Path(args.dest) if args.dest else Path.cwd()
    if args.dest and args.dest.endswith(("/", os.sep)):
        # "DIR/" names a folder, as cp and curl read it: made if missing, never a file.
        await asyncio.to_thread(dest.mkdir, parents=True, exist_ok=True)
    if not await asyncio.to_thread(lambda: dest.is_dir() or dest.parent.is_dir()):
        raise Failure(ExitCode.ERROR, f"no folder {dest.parent} to write into")
    if await asyncio.to_thread(lambda: not dest.is_dir() and (dest.exists() or dest.is_symlink())):
        raise Failure(ExitCode.ERROR, f"{dest} exists already: a download never replaces a file")
    async with connected(args) as client:
        on_progress, drawn = _progress(f"file {args.file_id}")
        try:
            written = await client.files.download(args.file_id, dest, on_progress=on_progress)
        finally:
            _end_line(drawn)
    if args.json:
        print(json.dumps({"file_id": args.file_id, "path": str(written)}, ensure_ascii=False))
    else:
        print(written)
    return ExitCode.OK
