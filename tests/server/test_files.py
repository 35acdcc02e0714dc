"""Files through a real server: chunked upload and download, resume after a cut,
the SHA-256 check, quota and size limits, offsets, privacy (only the room's members
read a file, and others cannot tell it exists), name sanitising, the byte budget
that replaces the frame rate for chunks, and ``has:file`` search."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import time
from pathlib import Path

import pytest

from shared.errors import ErrorCode
from shared.frames import (
    Ack,
    CreateRoom,
    Delete,
    Download,
    Error,
    FileChunk,
    MessagePosted,
    Ok,
    RoomJoined,
    Search,
    SearchResults,
    Send,
    UploadChunk,
    UploadDone,
    UploadProgress,
    UploadReady,
    UploadStart,
)
from tchat_server.backup import backup
from tchat_server.services.files import chunk_size_for, sanitize_mime, sanitize_name
from tests.conftest import Running
from tests.server.util import StartServer, error_for, message_count, room_id
from tests.wire import Wire, next_rid

MiB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def start(
    wire: Wire, room: int, data: bytes, name: str = "a.bin", **fields: object
) -> UploadReady | Error:
    rid = next_rid()
    frame = UploadStart(
        room=room,
        name=name,
        size=int(fields.pop("size", len(data))),  # type: ignore[call-overload]
        sha256=str(fields.pop("sha256", sha(data))),
        rid=rid,
        **fields,  # type: ignore[arg-type]
    )
    await wire.send(frame)
    answer = await wire.find(
        UploadReady | Error,  # type: ignore[arg-type]
        where=lambda f: f.rid == rid,
    )
    return answer


async def send_chunks(
    wire: Wire, ready: UploadReady, data: bytes, *, until: int | None = None, step: int = 0
) -> UploadDone | UploadProgress | Error:
    """Pipeline the chunks from ``ready.offset`` (to ``until``), then wait for the
    last one's answer."""
    step = step or ready.chunk_size
    end = len(data) if until is None else until
    offsets = list(range(ready.offset, end, step)) or [ready.offset]
    rid = ""
    for offset in offsets:
        rid = next_rid()
        chunk = data[offset : min(offset + step, end)]
        await wire.send(UploadChunk(upload=ready.upload, offset=offset, data=chunk, rid=rid))
    answer = await wire.find(
        UploadDone | UploadProgress | Error,  # type: ignore[arg-type]
        where=lambda f: f.rid == rid,
        timeout=30,
    )
    return answer  # type: ignore[no-any-return]


async def upload(wire: Wire, room: int, data: bytes, name: str = "a.bin") -> UploadDone:
    ready = await start(wire, room, data, name)
    assert isinstance(ready, UploadReady), ready
    done = await send_chunks(wire, ready, data)
    assert isinstance(done, UploadDone), done
    return done


async def download(wire: Wire, file_id: int, length: int = 1 << 20) -> bytes | Error:
    got = bytearray()
    while True:
        rid = next_rid()
        await wire.send(Download(file=file_id, offset=len(got), length=length, rid=rid))
        answer = await wire.find(
            FileChunk | Error,  # type: ignore[arg-type]
            where=lambda f, rid=rid: f.rid == rid,  # type: ignore[misc]
        )
        if isinstance(answer, Error):
            return answer
        assert answer.offset == len(got)
        got += answer.data
        if answer.eof:
            return bytes(got)


def rows(srv: Running, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(srv.server.config.db_path) as conn:
        return conn.execute(sql).fetchall()


def blob(srv: Running, digest: str) -> Path:
    return srv.server.config.files_dir / digest[:2] / digest[2:]


async def two(srv: Running) -> tuple[Wire, Wire]:
    for name in ("alice", "bob"):
        await srv.user(name)
    return await srv.connect("alice"), await srv.connect("bob")


# ---------------------------------------------------------------- happy path


async def test_upload_download_round_trip_and_file_card(start_server: StartServer) -> None:
    srv = await start_server(max_file=3 * MiB)
    alice, bob = await two(srv)
    assert alice.welcome is not None
    assert alice.welcome.limits.max_file == 3 * MiB
    assert alice.welcome.limits.file_chunk == chunk_size_for(64 * 1024)
    general = room_id(alice)
    data = os.urandom(3 * MiB)
    done = await upload(alice, general, data, "report.pdf")
    assert done.file.size == len(data)
    assert done.file.sha256 == sha(data)
    assert done.file.name == "report.pdf"
    assert done.file.mime == "application/octet-stream"
    assert blob(srv, sha(data)).read_bytes() == data
    assert rows(srv, "SELECT count(*) FROM uploads") == [(0,)]
    assert list(srv.server.config.uploads_dir.glob("*.part")) == []

    assert await download(bob, done.file.id, length=100_000) == data

    await alice.send(Send(client_msg_id="f1", body="", room=general, file=done.file.id))
    posted = await bob.find(MessagePosted, where=lambda m: m.message.client_msg_id == "f1")
    assert posted.message.file is not None
    assert posted.message.file.id == done.file.id
    assert posted.message.file.name == "report.pdf"
    assert posted.message.file.size == len(data)

    rid = next_rid()
    await bob.send(Search(query="has:file", rid=rid))
    found = await bob.find(SearchResults, where=lambda r: r.rid == rid)
    assert [m.client_msg_id for m in found.messages] == ["f1"]


async def test_the_same_content_is_stored_once(srv: Running) -> None:
    alice, _ = await two(srv)
    data = b"twice" * 1000
    first = await upload(alice, room_id(alice), data, "one.txt")
    second = await upload(alice, room_id(alice), data, "two.txt")
    assert first.file.id != second.file.id
    assert second.file.name == "two.txt"
    stored = [p for p in srv.server.config.files_dir.rglob("*") if p.is_file()]
    assert stored == [blob(srv, sha(data))]


async def test_a_zero_byte_file_is_one_empty_chunk(srv: Running) -> None:
    alice, bob = await two(srv)
    ready = await start(alice, room_id(alice), b"", "empty")
    assert isinstance(ready, UploadReady) and ready.offset == 0
    done = await send_chunks(alice, ready, b"")
    assert isinstance(done, UploadDone), done
    assert done.file.size == 0
    assert await download(bob, done.file.id) == b""


async def test_full_default_size_file_round_trip(srv: Running) -> None:
    """25 MiB at the default limits: under the byte budget, never rate limited."""
    alice, _ = await two(srv)
    data = os.urandom(25 * MiB)
    started = time.monotonic()
    done = await upload(alice, room_id(alice), data, "big.bin")
    assert done.file.size == 25 * MiB
    assert time.monotonic() - started < 20
    assert alice.seen(Error) == []
    assert blob(srv, sha(data)).stat().st_size == 25 * MiB


# -------------------------------------------------------------------- resume


async def test_a_cut_upload_resumes_from_the_bytes_held(srv: Running) -> None:
    alice, _ = await two(srv)
    general = room_id(alice)
    data = os.urandom(400_000)
    ready = await start(alice, general, data)
    assert isinstance(ready, UploadReady) and ready.offset == 0
    half = ready.chunk_size * 4
    progress = await send_chunks(alice, ready, data, until=half)
    assert isinstance(progress, UploadProgress) and progress.received == half
    alice.ws.transport.abort()  # the TCP connection cut, no close handshake
    await alice.wait_closed()

    again = await srv.connect("alice")
    resumed = await start(again, general, data)
    assert isinstance(resumed, UploadReady)
    assert resumed.upload == ready.upload
    assert resumed.offset == half
    done = await send_chunks(again, resumed, data)
    assert isinstance(done, UploadDone), done
    assert done.file.sha256 == sha(data)
    assert blob(srv, sha(data)).read_bytes() == data


async def test_stale_uploads_are_dropped_at_start(start_server: StartServer) -> None:
    srv = await start_server()
    alice, _ = await two(srv)
    data = os.urandom(100_000)
    ready = await start(alice, room_id(alice), data)
    assert isinstance(ready, UploadReady)
    await send_chunks(alice, ready, data, until=ready.chunk_size)
    part = srv.server.config.uploads_dir / f"{ready.upload}.part"
    assert part.stat().st_size == ready.chunk_size
    orphan = srv.server.config.uploads_dir / "orphan.part"
    orphan.write_bytes(b"x")
    await srv.stop()
    with sqlite3.connect(srv.server.config.db_path) as conn:
        conn.execute("UPDATE uploads SET updated_at = ?", (time.time() - 25 * 3600,))
    srv = await start_server()
    assert rows(srv, "SELECT count(*) FROM uploads") == [(0,)]
    assert not part.exists()
    assert not orphan.exists()


# ----------------------------------------------------------------- refusals


async def test_too_large_is_refused_and_nothing_is_kept(start_server: StartServer) -> None:
    srv = await start_server(max_file=1000)
    alice, _ = await two(srv)
    answer = await start(alice, room_id(alice), b"x" * 1001)
    assert isinstance(answer, Error) and answer.code == ErrorCode.FILE_TOO_LARGE
    assert rows(srv, "SELECT count(*) FROM uploads") == [(0,)]


async def test_quota_counts_files_and_unfinished_uploads(start_server: StartServer) -> None:
    srv = await start_server(file_quota=1000)
    alice, bob = await two(srv)
    general = room_id(alice)
    await upload(alice, general, b"a" * 400)
    unfinished = await start(alice, general, b"b" * 400)
    assert isinstance(unfinished, UploadReady)
    refused = await start(alice, general, b"c" * 201)
    assert isinstance(refused, Error) and refused.code == ErrorCode.QUOTA_EXCEEDED
    assert rows(srv, "SELECT count(*) FROM uploads") == [(1,)]
    fits = await start(alice, general, b"d" * 200)
    assert isinstance(fits, UploadReady)
    # The quota is per user: bob still has all of his.
    assert isinstance(await start(bob, general, b"e" * 1000), UploadReady)


async def test_a_wrong_sha256_discards_the_upload(srv: Running) -> None:
    alice, _ = await two(srv)
    data = os.urandom(150_000)
    ready = await start(alice, room_id(alice), data, sha256="0" * 64)
    assert isinstance(ready, UploadReady)
    answer = await send_chunks(alice, ready, data)
    assert isinstance(answer, Error) and answer.code == ErrorCode.FILE_CORRUPT
    assert rows(srv, "SELECT count(*) FROM uploads") == [(0,)]
    assert rows(srv, "SELECT count(*) FROM files") == [(0,)]
    assert list(srv.server.config.uploads_dir.glob("*.part")) == []
    assert not blob(srv, sha(data)).exists()
    assert not blob(srv, "0" * 64).exists()


async def test_a_chunk_at_the_wrong_offset_changes_nothing(srv: Running) -> None:
    alice, _ = await two(srv)
    data = os.urandom(10_000)
    ready = await start(alice, room_id(alice), data)
    assert isinstance(ready, UploadReady)
    first = await send_chunks(alice, ready, data, until=1000, step=1000)
    assert isinstance(first, UploadProgress) and first.received == 1000
    for offset in (0, 500, 2000):
        rid = next_rid()
        await alice.send(UploadChunk(upload=ready.upload, offset=offset, data=b"z" * 10, rid=rid))
        error = await error_for(alice, rid=rid)
        assert error.code == ErrorCode.UPLOAD_OFFSET
        assert "1000" in error.message
    part = srv.server.config.uploads_dir / f"{ready.upload}.part"
    assert part.read_bytes() == data[:1000]
    # Past the end, and someone else's upload id: refused too.
    rid = next_rid()
    await alice.send(UploadChunk(upload=ready.upload, offset=1000, data=b"z" * 9001, rid=rid))
    assert (await error_for(alice, rid=rid)).code == ErrorCode.BAD_FRAME
    bob = srv.wires[1]
    rid = next_rid()
    await bob.send(UploadChunk(upload=ready.upload, offset=1000, data=b"z", rid=rid))
    assert (await error_for(bob, rid=rid)).code == ErrorCode.FILE_NOT_FOUND
    assert part.read_bytes() == data[:1000]


async def test_upload_to_a_room_one_is_not_in_is_refused(srv: Running) -> None:
    alice, bob = await two(srv)
    await bob.send(CreateRoom(name="vault", kind="group", rid="g"))
    vault = (await bob.find(RoomJoined, where=lambda j: j.room.name == "vault")).room.id
    answer = await start(alice, vault, b"data")
    assert isinstance(answer, Error)
    assert answer.code in {ErrorCode.ROOM_NOT_FOUND, ErrorCode.NOT_MEMBER}
    assert rows(srv, "SELECT count(*) FROM uploads") == [(0,)]


async def test_only_members_read_a_file_and_others_cannot_tell_it_exists(srv: Running) -> None:
    alice, bob = await two(srv)
    await srv.user("carol")
    carol = await srv.connect("carol")
    await bob.send(CreateRoom(name="vault", kind="group", members=["alice"], rid="g"))
    vault = (await bob.find(RoomJoined, where=lambda j: j.room.name == "vault")).room.id
    await alice.find(RoomJoined, where=lambda j: j.room.name == "vault")
    done = await upload(bob, vault, b"secret plans", "plans.txt")
    assert await download(alice, done.file.id) == b"secret plans"

    hidden = await download(carol, done.file.id)
    missing = await download(carol, 999_999)
    assert isinstance(hidden, Error) and isinstance(missing, Error)
    assert hidden.code == missing.code == ErrorCode.FILE_NOT_FOUND
    assert hidden.message == missing.message

    # Nor can a file be posted to another room than the one it was uploaded to.
    before = await message_count(srv)
    general = room_id(carol)
    await carol.send(Send(client_msg_id="steal", body="look", room=general, file=done.file.id))
    error = await error_for(carol, cid="steal")
    assert error.code == ErrorCode.FILE_NOT_FOUND
    await bob.send(Send(client_msg_id="move", body="", room=general, file=done.file.id))
    assert (await error_for(bob, cid="move")).code == ErrorCode.FILE_NOT_FOUND
    assert await message_count(srv) == before
    assert bob.seen(Ack) == []


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("..", "file"),
        ("/", "file"),
        ("evil\x1b[31mred\x1b[0m.txt", "evil[31mred[0m.txt"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),
        ("zero\u200bwidth\u2066x\u2069.md", "zerowidthx.md"),
        ("cafe\u0301.txt", "caf\u00e9.txt"),
        ("a" * 300 + ".tar.gz", "a" * 252 + ".gz"),
    ],
)
def test_sanitize_name(given: str, kept: str) -> None:
    assert sanitize_name(given) == kept
    assert len(sanitize_name(given)) <= 255


def test_sanitize_mime() -> None:
    assert sanitize_mime("text/plain; charset=utf-8") == "text/plain"
    assert sanitize_mime("Image/PNG") == "image/png"
    assert sanitize_mime("text/html\x1b[2J") == "application/octet-stream"
    assert sanitize_mime("nonsense") == "application/octet-stream"
    assert sanitize_mime("") == "application/octet-stream"


async def test_names_are_sanitised_on_the_wire(srv: Running) -> None:
    alice, _ = await two(srv)
    done = await upload(alice, room_id(alice), b"root:x:0:0", "../../etc/passwd")
    assert done.file.name == "passwd"
    answer = await start(alice, room_id(alice), b"x", "\x1b]8;;http://evil\x07click\u202e")
    assert isinstance(answer, UploadReady)
    assert rows(srv, "SELECT name FROM uploads") == [("evilclick",)]  # no ESC, BEL, RLO, path
    stored = rows(srv, "SELECT name FROM files")
    assert stored == [("passwd",)]


# -------------------------------------------------------------------- rates


async def test_hundreds_of_chunks_are_not_rate_limited(srv: Running) -> None:
    """600 chunks in a burst pass the frame limit (10/s) on their byte budget."""
    alice, _ = await two(srv)
    data = os.urandom(600 * 1024)
    ready = await start(alice, room_id(alice), data)
    assert isinstance(ready, UploadReady)
    done = await send_chunks(alice, ready, data, step=1024)
    assert isinstance(done, UploadDone), done
    assert alice.seen(Error) == []
    assert len(alice.seen(UploadProgress)) == 599


async def test_chunks_past_the_byte_budget_are_refused(start_server: StartServer) -> None:
    srv = await start_server(file_rate=64 * 1024)
    alice, _ = await two(srv)
    data = os.urandom(1 * MiB)
    ready = await start(alice, room_id(alice), data)
    assert isinstance(ready, UploadReady)
    answer = await send_chunks(alice, ready, data)
    assert isinstance(answer, Error)
    limited = [e for e in alice.seen(Error) if e.code == ErrorCode.RATE_LIMITED]
    assert limited and all(e.retry_after for e in limited)
    assert rows(srv, "SELECT count(*) FROM files") == [(0,)]


# ------------------------------------------------------------ search, backup


async def test_has_file_finds_messages_with_a_file_until_deleted(srv: Running) -> None:
    alice, bob = await two(srv)
    general = room_id(alice)
    done = await upload(alice, general, b"minutes", "minutes.txt")
    await alice.send(Send(client_msg_id="plain", body="meeting at noon", room=general))
    await alice.send(
        Send(client_msg_id="kept", body="meeting notes", room=general, file=done.file.id)
    )
    await alice.send(Send(client_msg_id="gone", body="draft", room=general, file=done.file.id))
    acks = {
        cid: await alice.find(Ack, where=lambda a, cid=cid: a.client_msg_id == cid)  # type: ignore[misc]
        for cid in ("plain", "kept", "gone")
    }

    async def found(query: str) -> list[str | None]:
        rid = next_rid()
        await bob.send(Search(query=query, rid=rid))
        answer = await bob.find(SearchResults, where=lambda r: r.rid == rid)
        return [m.client_msg_id for m in answer.messages]

    assert await found("has:file") == ["gone", "kept"]
    assert await found("meeting has:file") == ["kept"]
    assert await found("has:file from:alice in:#general") == ["gone", "kept"]
    assert await found("meeting") == ["kept", "plain"]

    rid = next_rid()
    await alice.send(Delete(room=general, seq=acks["gone"].seq, rid=rid))
    await alice.find(Ok, where=lambda ok: ok.rid == rid)
    assert await found("has:file") == ["kept"]


async def test_a_backup_holds_the_stored_files(srv: Running, tmp_path: Path) -> None:
    alice, _ = await two(srv)
    data = os.urandom(70_000)
    done = await upload(alice, room_id(alice), data, "photo.jpg")
    unfinished = await start(alice, room_id(alice), b"half of it")
    assert isinstance(unfinished, UploadReady)
    await send_chunks(alice, unfinished, b"half of it", until=4)

    info = await asyncio.to_thread(backup, srv.server.config.data_dir, tmp_path / "backup")
    assert info.files == 1
    copy = tmp_path / "backup" / "files" / done.file.sha256[:2] / done.file.sha256[2:]
    assert copy.read_bytes() == data
    assert not (tmp_path / "backup" / "uploads").exists()


async def test_an_upload_resumes_across_a_server_restart(start_server: StartServer) -> None:
    srv = await start_server()
    alice, _ = await two(srv)
    general = room_id(alice)
    data = os.urandom(200_000)
    ready = await start(alice, general, data)
    assert isinstance(ready, UploadReady)
    held = 3 * ready.chunk_size
    assert isinstance(await send_chunks(alice, ready, data, until=held), UploadProgress)
    await srv.stop()

    srv = await start_server()
    again = await srv.connect("alice")
    resumed = await start(again, general, data)
    assert isinstance(resumed, UploadReady)
    assert (resumed.upload, resumed.offset) == (ready.upload, held)
    done = await send_chunks(again, resumed, data)
    assert isinstance(done, UploadDone) and done.file.sha256 == sha(data)


async def test_uploads_started_at_once_cannot_both_pass_the_quota(
    start_server: StartServer,
) -> None:
    srv = await start_server(file_quota=1000)
    await srv.user("alice")
    first, second = await srv.connect("alice"), await srv.connect("alice")
    general = room_id(first)
    answers = await asyncio.gather(
        start(first, general, b"a" * 600), start(second, general, b"b" * 600)
    )
    assert sorted(type(a).__name__ for a in answers) == ["Error", "UploadReady"]
    assert rows(srv, "SELECT count(*), sum(size) FROM uploads") == [(1, 600)]


async def test_oversized_chunks_and_reads_past_the_end_are_refused(srv: Running) -> None:
    alice, bob = await two(srv)
    chunk = chunk_size_for(srv.server.config.max_frame)
    data = os.urandom(chunk + 10)
    ready = await start(alice, room_id(alice), data)
    assert isinstance(ready, UploadReady) and ready.chunk_size == chunk
    rid = next_rid()
    await alice.send(UploadChunk(upload=ready.upload, offset=0, data=data[: chunk + 1], rid=rid))
    assert (await error_for(alice, rid=rid)).code == ErrorCode.BAD_FRAME
    assert not (srv.server.config.uploads_dir / f"{ready.upload}.part").exists()
    done = await send_chunks(alice, ready, data)
    assert isinstance(done, UploadDone)

    rid = next_rid()
    await bob.send(Download(file=done.file.id, offset=len(data) + 1, rid=rid))
    assert (await error_for(bob, rid=rid)).code == ErrorCode.BAD_FRAME
    rid = next_rid()
    await bob.send(Download(file=done.file.id, offset=0, length=4 * MiB, rid=rid))
    capped = await bob.find(FileChunk, where=lambda c: c.rid == rid)
    assert len(capped.data) == chunk and not capped.eof


async def test_a_running_server_sweeps_stale_uploads_too(srv: Running) -> None:
    alice, _ = await two(srv)
    data = os.urandom(50_000)
    old = await start(alice, room_id(alice), data)
    fresh = await start(alice, room_id(alice), data[:100])
    assert isinstance(old, UploadReady) and isinstance(fresh, UploadReady)
    await send_chunks(alice, old, data, until=1000, step=1000)
    with sqlite3.connect(srv.server.config.db_path) as conn:
        conn.execute(
            "UPDATE uploads SET updated_at = ? WHERE id = ?", (time.time() - 86_401, old.upload)
        )
    assert await srv.services.files.sweep() == 1
    assert rows(srv, "SELECT id FROM uploads") == [(fresh.upload,)]
    assert not (srv.server.config.uploads_dir / f"{old.upload}.part").exists()
    rid = next_rid()
    await alice.send(UploadChunk(upload=old.upload, offset=1000, data=b"x", rid=rid))
    assert (await error_for(alice, rid=rid)).code == ErrorCode.FILE_NOT_FOUND
