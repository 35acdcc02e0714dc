"""Files under attack and under strain, on a real server: frames that would be
nearly free (empty chunks, one-byte reads), an announce racing the end of the same
upload, a damaged blob, a nearly full disk, and ``tchat-server check`` finding
files rows whose blobs are missing or wrong."""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from shared.errors import ErrorCode
from shared.frames import (
    Ack,
    CreateRoom,
    Delete,
    Download,
    Error,
    FileChunk,
    Join,
    Ok,
    RoomJoined,
    Send,
    UploadChunk,
    UploadDone,
    UploadProgress,
    UploadReady,
)
from shared.frames_moderation import LockRoom, Mute
from tchat_server.backup import check
from tchat_server.services.limits import KeyedLocks
from tests.conftest import Running
from tests.selfhost.conftest import run_cli
from tests.server.test_files import (
    blob,
    download,
    rows,
    send_chunks,
    sha,
    start,
    two,
    upload,
)
from tests.server.util import StartServer, error_for, room_id
from tests.wire import Wire, next_rid


class CountingLocks(KeyedLocks):
    """The service's per-upload locks, telling when the n-th holder arrived (the
    test then knows a request is waiting on the lock, without sleeping)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._count = 0

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        self._count += 1
        self.arrived[self._count].set()
        async with super().hold(key):
            yield


async def test_tiny_file_frames_spend_a_full_chunk_of_the_budget(
    start_server: StartServer,
) -> None:
    """Ten one-byte reads and ten empty chunks, pipelined, on a 64 KiB/s budget:
    each costs a chunk, so some are refused (before, they cost 1 and ~100 bytes)."""
    srv = await start_server(file_rate=64 * 1024)
    alice, _ = await two(srv)
    general = room_id(alice)
    done = await upload(alice, general, b"0123456789")
    reader = await srv.connect("alice")
    rids = [next_rid() for _ in range(10)]
    for rid in rids:
        await reader.send(Download(file=done.file.id, length=1, rid=rid))
    answers = [
        await reader.find(FileChunk | Error, where=lambda f, r=rid: f.rid == r)  # type: ignore[arg-type,misc]
        for rid in rids
    ]
    limited = [a for a in answers if isinstance(a, Error)]
    assert limited and all(e.code == ErrorCode.RATE_LIMITED for e in limited)

    writer = await srv.connect("alice")
    ready = await start(writer, general, b"abcdefghij")
    assert isinstance(ready, UploadReady)
    rids = [next_rid() for _ in range(10)]
    for rid in rids:
        await writer.send(UploadChunk(upload=ready.upload, offset=0, data=b"", rid=rid))
    answers = [
        await writer.find(UploadProgress | Error, where=lambda f, r=rid: f.rid == r)  # type: ignore[arg-type,misc]
        for rid in rids
    ]
    limited = [a for a in answers if isinstance(a, Error) and a.code == ErrorCode.RATE_LIMITED]
    assert limited
    assert rows(srv, f"SELECT received FROM uploads WHERE id = '{ready.upload}'") == [(0,)]


async def test_an_announce_waiting_on_the_last_chunk_gets_a_fresh_upload(srv: Running) -> None:
    """Two sessions of one user: the last chunk finishes the upload while the other
    session's announce of the same file waits for it. The announce must not answer
    with the finished upload's id (every chunk would be file_not_found)."""
    await srv.user("alice")
    first, second = await srv.connect("alice"), await srv.connect("alice")
    general = room_id(first)
    data = os.urandom(5000)
    ready = await start(first, general, data)
    assert isinstance(ready, UploadReady)
    await send_chunks(first, ready, data, until=4000, step=4000)

    locks = CountingLocks()
    srv.services.files._locks = locks
    async with locks.hold(ready.upload):
        last = next_rid()
        await first.send(UploadChunk(upload=ready.upload, offset=4000, data=data[4000:], rid=last))
        await locks.arrived[2].wait()  # the last chunk waits
        announce = asyncio.ensure_future(start(second, general, data))
        await locks.arrived[3].wait()  # and the announce behind it
    done = await first.find(UploadDone, where=lambda f: f.rid == last)
    again = await announce
    assert isinstance(again, UploadReady), again
    assert again.upload != ready.upload and again.offset == 0
    assert await send_chunks(second, again, data) is not None
    assert rows(srv, "SELECT count(*) FROM files") == [(2,)]
    assert rows(srv, "SELECT count(*) FROM uploads") == [(0,)]
    assert done.file.sha256 == sha(data)


async def test_uploading_again_repairs_a_damaged_blob(srv: Running) -> None:
    alice, bob = await two(srv)
    data = os.urandom(30_000)
    done = await upload(alice, room_id(alice), data)
    stored = blob(srv, done.file.sha256)
    stored.write_bytes(data[:100])  # cut short on disk (a bad restore, a full disk...)
    broken = await download(bob, done.file.id)
    assert isinstance(broken, Error) and broken.code == ErrorCode.UNAVAILABLE

    await upload(bob, room_id(bob), data)  # the same content, from anyone
    assert stored.read_bytes() == data
    assert await download(bob, done.file.id) == data


async def test_uploads_are_refused_when_the_disk_is_nearly_full(srv: Running) -> None:
    alice, _ = await two(srv)
    srv.services.files.disk_reserve = 1 << 62  # more than any disk has free
    answer = await start(alice, room_id(alice), b"anything")
    assert isinstance(answer, Error) and answer.code == ErrorCode.UNAVAILABLE
    assert rows(srv, "SELECT count(*) FROM uploads") == [(0,)]
    srv.services.files.disk_reserve = 0
    assert isinstance(await start(alice, room_id(alice), b"anything"), UploadReady)


async def test_check_finds_missing_short_and_altered_blobs(srv: Running, data_dir: Path) -> None:
    alice, _ = await two(srv)
    general = room_id(alice)
    kept, gone, short, altered = (os.urandom(2000) for _ in range(4))
    files = {}
    for name, data in (("kept", kept), ("gone", gone), ("short", short), ("altered", altered)):
        files[name] = (await upload(alice, general, data, f"{name}.bin")).file
    assert check(data_dir, blobs=True, hashes=True).ok

    blob(srv, files["gone"].sha256).unlink()
    blob(srv, files["short"].sha256).write_bytes(short[:10])
    blob(srv, files["altered"].sha256).write_bytes(bytes(2000))
    sizes = check(data_dir, blobs=True)
    assert len(sizes.problems) == 2
    assert any(f"file {files['gone'].id}:" in p and "missing" in p for p in sizes.problems)
    assert any(f"file {files['short'].id}:" in p and "10 bytes" in p for p in sizes.problems)
    hashed = check(data_dir, blobs=True, hashes=True)
    assert len(hashed.problems) == 3
    assert any(f"file {files['altered'].id}:" in p for p in hashed.problems)
    assert check(data_dir).ok  # a backup's own check does not look at blobs

    code, out, _ = await run_cli("--data-dir", str(data_dir), "check", "--files")
    assert code != 0 and out.count("problem: ") == 3
    code, out, _ = await run_cli("--data-dir", str(data_dir), "check")
    assert code != 0 and out.count("problem: ") == 2


async def test_deleting_every_message_of_a_file_takes_the_file_away(srv: Running) -> None:
    alice, bob = await two(srv)
    general = room_id(alice)
    data = os.urandom(3000)
    done = await upload(alice, general, data, "leak.pdf")
    unposted = await upload(alice, general, b"a draft", "draft.txt")
    seqs = []
    for cid in ("one", "two"):
        await alice.send(Send(client_msg_id=cid, body="", room=general, file=done.file.id))
        seqs.append((await alice.find(Ack, where=lambda a, c=cid: a.client_msg_id == c)).seq)  # type: ignore[misc]

    for seq in seqs:
        assert await download(bob, done.file.id) == data  # while one message still has it
        rid = next_rid()
        await alice.send(Delete(room=general, seq=seq, rid=rid))
        await alice.find(Ok, where=lambda f, r=rid: f.rid == r)  # type: ignore[misc]
    gone = await download(bob, done.file.id)
    assert isinstance(gone, Error) and gone.code == ErrorCode.FILE_NOT_FOUND
    await alice.send(Send(client_msg_id="again", body="", room=general, file=done.file.id))
    assert (await error_for(alice, cid="again")).code == ErrorCode.FILE_NOT_FOUND
    assert rows(srv, "SELECT count(*) FROM messages WHERE file_id IS NOT NULL") == [(2,)]
    assert await download(bob, unposted.file.id) == b"a draft"  # never posted: still there


async def test_who_may_not_post_may_not_upload(srv: Running) -> None:
    alice, bob = await two(srv)
    await srv.user("carol")
    carol = await srv.connect("carol")
    await alice.send(CreateRoom(name="den", rid="den"))
    room = (await alice.find(RoomJoined, where=lambda j: j.room.name == "den")).room.id
    for wire in (bob, carol):
        await wire.send(Join(name="den", rid="join"))
        await wire.find(RoomJoined, where=lambda j: j.room.id == room)
    await command(alice, Mute(room=room, user="bob", rid=next_rid()))
    muted = await start(bob, room, b"spam")
    assert isinstance(muted, Error) and muted.code == ErrorCode.MUTED
    await command(alice, LockRoom(room=room, rid=next_rid()))
    locked = await start(carol, room, b"spam")
    assert isinstance(locked, Error) and locked.code == ErrorCode.ROOM_LOCKED
    assert rows(srv, "SELECT count(*) FROM uploads") == [(0,)]
    assert isinstance(await start(alice, room, b"the owner may"), UploadReady)


async def command(wire: Wire, frame: Mute | LockRoom) -> None:
    await wire.send(frame)
    await wire.find(Ok, where=lambda f: f.rid == frame.rid)
