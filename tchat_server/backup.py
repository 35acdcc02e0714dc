"""Backups, restores and integrity checks of a data directory.

A backup is a folder: ``tchat.db`` (a consistent snapshot taken with SQLite's
online backup API in one step, so a running server keeps writing meanwhile),
``files/`` (uploaded files, when the data directory has them; the database is
their index and is copied first, so every file it names is there), and
``backup.json`` (what it holds, with the database's SHA-256). It is built under a
temporary name and renamed into place, so a backup that exists is complete.

A restore refuses to run beside a live server (it takes the data directory's
lock), moves what it replaces aside instead of deleting it, and gives the restored
database a new epoch: clients then drop the seqs they stored and refetch history,
since the seqs after the backup will be given to other messages.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from tchat_server.datadir import DataDirLock
from tchat_server.storage.db import SCHEMA_VERSION

__all__ = ["BackupError", "BackupInfo", "CheckReport", "backup", "check", "restore"]

DB_NAME = "tchat.db"
FILES = "files"
MANIFEST = "backup.json"
FORMAT = 1


class BackupError(Exception):
    """A backup, restore or check could not be done; the message says why."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    messages: int
    files: int
    epoch: str
    schema_version: int


@dataclass(slots=True)
class CheckReport:
    database: Path
    messages: int = 0
    rooms: int = 0
    users: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def backup(data_dir: Path, dest: Path) -> BackupInfo:
    """Copy the data directory's database (and ``files/``) into the new folder ``dest``.

    Raises:
        BackupError: no database, ``dest`` exists and is not empty, or the copy
            fails its integrity check.
    """
    source = data_dir / DB_NAME
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists: choose a new folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        copy = staging / DB_NAME
        _snapshot(source, copy)
        with closing(_connect(copy, readonly=False)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        report = check(copy)
        if not report.ok:
            raise BackupError("the copy fails its check: " + "; ".join(report.problems))
        files = _copy_files(data_dir / FILES, staging / FILES)
        with closing(_connect(copy, readonly=True)) as conn:
            epoch, version = _epoch(conn), _user_version(conn)
        manifest = {
            "format": FORMAT,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "schema_version": version,
            "epoch": epoch,
            "messages": report.messages,
            "files": files,
            "db_sha256": _sha256(copy),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _fsync_tree(staging)
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
        _fsync(dest.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupInfo(dest, report.messages, files, epoch, version)


def check(path: Path, *, blobs: bool = False, hashes: bool = False) -> CheckReport:
    """Check a database: a data directory, a backup folder, or a ``.db`` file.

    SQLite's integrity and foreign-key checks, the schema version, tchat's own
    invariants (each room's seqs are 1..latest with no gap), and for a backup its
    recorded SHA-256. With ``blobs``, every ``files`` row must have its blob under
    ``files/`` beside the database, of the recorded size; with ``hashes`` too, of
    the recorded SHA-256 (reads every blob). Safe beside a running server: the
    database is opened read-only and a blob is in place before its row commits.

    Raises:
        BackupError: there is no database at ``path``.
    """
    database = path / DB_NAME if path.is_dir() else path
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    report = CheckReport(database)
    try:
        with closing(_connect(database, readonly=True)) as conn:
            _check_sqlite(conn, report)
            if (blobs or hashes) and _user_version(conn) >= 3:  # files came with 0003
                _check_blobs(conn, database.parent / FILES, report, hashes=hashes)
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"cannot read the database: {exc}")
    folder = database.parent
    if (folder / FILES).is_dir():
        report.files = sum(1 for p in (folder / FILES).rglob("*") if p.is_file())
    manifest = folder / MANIFEST
    if path.is_dir() and manifest.is_file():
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8")).get("db_sha256")
        except (ValueError, AttributeError):
            recorded = None
            report.problems.append(f"{MANIFEST} is not readable JSON")
        if recorded and recorded != _sha256(database):
            report.problems.append(f"{DB_NAME} differs from the SHA-256 in {MANIFEST}")
    return report


def restore(source: Path, data_dir: Path, *, force: bool = False) -> BackupInfo:
    """Put a backup (folder or ``.db`` file) in place as the data directory's database.

    Raises:
        BackupError: the backup fails its check, or data exists and ``force`` is off.
        DataDirBusy: a server is running on ``data_dir``.
    """
    report = check(source)
    if not report.ok:
        raise BackupError(f"{source} fails its check: " + "; ".join(report.problems))
    files_source = report.database.parent / FILES if source.is_dir() else None
    target = data_dir / DB_NAME
    with DataDirLock(data_dir):
        replaced = [
            p
            for p in (target, _sidecar(target, "-wal"), _sidecar(target, "-shm"), data_dir / FILES)
            if p.exists()
        ]
        if replaced and not force:
            raise BackupError(
                f"{data_dir} already has data: pass --force to replace it "
                "(what is replaced is moved aside, not deleted)"
            )
        staging = data_dir / f".restoring-{secrets.token_hex(4)}"
        staging.mkdir()
        try:
            _snapshot(report.database, staging / DB_NAME)
            with closing(_connect(staging / DB_NAME, readonly=False)) as conn:
                epoch = secrets.token_hex(8)
                conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('epoch', ?)", (epoch,)
                )
                conn.commit()
                conn.execute("PRAGMA journal_mode=WAL")
                version = _user_version(conn)
            files = 0
            if files_source is not None and files_source.is_dir():
                files = _copy_files(files_source, staging / FILES)
            _fsync_tree(staging)
            if replaced:
                aside = data_dir / time.strftime("replaced-%Y%m%dT%H%M%S")
                aside.mkdir()
                for path in replaced:
                    path.rename(aside / path.name)
            (staging / DB_NAME).rename(target)
            if (staging / FILES).exists():
                (staging / FILES).rename(data_dir / FILES)
            _fsync(data_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return BackupInfo(data_dir, report.messages, files, epoch, version)


# ------------------------------------------------------------------ internals


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    """A connection to an existing database. ``readonly`` opens it for writing but
    with ``query_only``: a SQLite ``mode=ro`` connection to a WAL database leaves
    ``-wal``/``-shm`` files behind (owned by whoever ran the command, which can lock
    the server out); a writable one removes them on close when it is the last one.
    Read-only files fall back to ``mode=ro``."""
    uri = path.resolve().as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=rw", uri=True, timeout=30)
    except sqlite3.OperationalError:
        if not readonly:
            raise
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    return conn


def _snapshot(source: Path, dest: Path) -> None:
    """A consistent copy through the online backup API, in one step: the copy is
    the database as of one moment, while writers go on (WAL)."""
    with closing(_connect(source, readonly=True)) as src, closing(sqlite3.connect(dest)) as dst:
        src.backup(dst, pages=-1)


def _check_sqlite(conn: sqlite3.Connection, report: CheckReport) -> None:
    version = _user_version(conn)
    if version == 0:
        report.problems.append("not a tchat database (schema version 0)")
        return
    if version > SCHEMA_VERSION:
        report.problems.append(
            f"schema version {version} is newer than this server's {SCHEMA_VERSION}: upgrade tchat"
        )
    integrity = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        report.problems.extend(f"integrity: {line}" for line in integrity[:20])
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchall()[:20]:
        report.problems.append(f"foreign key: {table} row {rowid} names a missing {parent}")
    rows = conn.execute(
        "SELECT r.id, r.latest_seq, count(m.id), coalesce(max(m.seq), 0), coalesce(min(m.seq), 1)"
        " FROM rooms r LEFT JOIN messages m ON m.room_id = r.id GROUP BY r.id"
    ).fetchall()
    for room, latest, count, highest, lowest in rows:
        if count != highest or lowest != 1 or latest != highest:
            report.problems.append(
                f"room {room}: {count} messages with seqs {lowest}..{highest}, latest_seq {latest}"
            )
    report.rooms = len(rows)
    report.messages = int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    report.users = int(conn.execute("SELECT count(*) FROM users").fetchone()[0])
    if _epoch(conn) == "":
        report.problems.append("the database has no epoch")


_BLOB_PROBLEMS = 20
"""Blob problems listed one by one; past that, only counted."""


def _check_blobs(
    conn: sqlite3.Connection, folder: Path, report: CheckReport, *, hashes: bool
) -> None:
    """Each distinct stored content (files rows share a blob per SHA-256) against
    ``folder/ab/cdef...``: present, of its size, and (``hashes``) of its SHA-256."""
    problems: list[str] = []
    rows = conn.execute("SELECT sha256, size, min(id), count(*) FROM files GROUP BY sha256, size")
    for digest, size, first, count in rows:
        which = f"file {first}" + (f" (and {count - 1} more)" if count > 1 else "")
        if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
            problems.append(f"{which}: {digest!r} is not a SHA-256")
            continue
        blob = folder / digest[:2] / digest[2:]
        try:
            held = blob.stat().st_size if blob.is_file() else None
        except OSError:
            held = None
        if held is None:
            problems.append(f"{which}: its blob {blob} is missing")
        elif held != size:
            problems.append(f"{which}: its blob has {held} bytes, not {size}")
        elif hashes and _sha256(blob) != digest:
            problems.append(f"{which}: its blob's SHA-256 is not {digest}")
    report.problems.extend(problems[:_BLOB_PROBLEMS])
    if len(problems) > _BLOB_PROBLEMS:
        report.problems.append(f"and {len(problems) - _BLOB_PROBLEMS} more file problem(s)")


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _epoch(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
    return str(row[0]) if row else ""


def _copy_files(source: Path, dest: Path) -> int:
    if not source.is_dir():
        return 0
    shutil.copytree(source, dest, symlinks=False)
    return sum(1 for p in dest.rglob("*") if p.is_file())


def _sidecar(database: Path, suffix: str) -> Path:
    return database.with_name(database.name + suffix)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for path in _walk(root):
        _fsync(path)


def _walk(root: Path) -> Iterator[Path]:
    for folder, _, names in os.walk(root):
        for name in names:
            yield Path(folder) / name
        yield Path(folder)
