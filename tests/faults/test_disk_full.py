"""The database cannot be written: the disk is full, or the database is read-only.
Senders get ``unavailable`` and no ack, nothing acknowledged is lost, and the server
takes writes again once it can.

How the faults are made, and why:

* Disk full, in the real server process: its file-size limit (``RLIMIT_FSIZE``,
  lowered and raised again with ``prlimit`` while it runs) stops every write that
  would grow a file past the sizes they have, so SQLite's next commit fails in the
  kernel's ``write()`` exactly as on a full disk (``EFBIG`` here, ``ENOSPC`` there;
  SQLite reports a disk I/O error or ``SQLITE_FULL``). No root, no loop device, no
  hook in the server; raising the limit is the space coming back.
* ``SQLITE_FULL`` and ``SQLITE_READONLY`` themselves, in an in-process server: the
  writer connection's ``PRAGMA max_page_count`` (the database may not grow: "database
  or disk is full") and ``PRAGMA query_only`` ("attempt to write a readonly
  database", what a database opened read-only answers). A read-only file system
  cannot be made without root, and a ``chmod`` does not stop a root process or an
  open file.
"""

from __future__ import annotations

import asyncio
import resource
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from shared.errors import CloseCode, ErrorCode
from shared.frames import (
    PROTOCOL_VERSION,
    Ack,
    CreateRoom,
    Error,
    Login,
    MessagePosted,
    Send,
)
from tchat_server.storage.db import Database
from tests.conftest import PASSWORD, Running
from tests.faults.clients import DEADLINE, open_clients, sign_in_all
from tests.faults.process import ServerProcess, StartProcess, server_log
from tests.server.util import post, room_id, round_trip
from tests.wire import Wire, hello, login

pytestmark = pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs prlimit(2) (Linux)")


async def answers(wire: Wire, cids: list[str]) -> dict[str, Ack | Error]:
    """The ack or error answering each send, waited for in turn."""
    found: dict[str, Ack | Error] = {}
    for cid in cids:

        def answering(frame: object, cid: str = cid) -> bool:
            return isinstance(frame, Ack | Error) and frame.client_msg_id == cid

        answer = await wire.find(object, where=answering)
        assert isinstance(answer, Ack | Error)
        found[cid] = answer
    return found


async def send_all(wire: Wire, room: int, cids: list[str], padding: int = 0) -> None:
    for cid in cids:
        body = f"body of {cid}" + "." * padding
        await wire.send(Send(client_msg_id=cid, body=body, room=room))


def files_of(data_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in data_dir.iterdir() if p.name.startswith("tchat.db")}


@asynccontextmanager
async def disk_full(server: ServerProcess) -> AsyncIterator[None]:
    """The server's write-ahead log, where every commit goes first, may not grow from
    now on (as if the disk had no room left); on exit the limit is lifted, as when
    space returns."""
    _, hard = resource.prlimit(server.pid, resource.RLIMIT_FSIZE)
    limit = files_of(server.data_dir)["tchat.db-wal"]
    resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (hard, hard))


async def test_a_full_disk_refuses_sends_keeps_acked_messages_and_recovers(
    server_process: StartProcess, tmp_path: Path
) -> None:
    server = await server_process(users=["alice", "bob", "carol"])
    alice = await login(server.url, "alice", PASSWORD)
    bob = await login(server.url, "bob", PASSWORD)
    profiles = await sign_in_all(server.url, ["carol"], tmp_path / "homes")
    (carol,) = await open_clients(profiles)
    wires = [alice, bob]
    try:
        general = room_id(alice)
        before = [f"before-{n}" for n in range(5)]
        await send_all(alice, general, before)
        assert all(isinstance(a, Ack) for a in (await answers(alice, before)).values())
        assert alice.welcome is not None and alice.welcome.token is not None

        async with disk_full(server):
            refused = [f"full-{n}" for n in range(10)]
            await send_all(alice, general, refused)
            got = await answers(alice, refused)
            # An error and no ack, for each: nothing was stored, nothing announced.
            assert {type(a) for a in got.values()} == {Error}, got
            assert {a.code for a in got.values() if isinstance(a, Error)} == {ErrorCode.UNAVAILABLE}
            await round_trip(alice)
            assert not [a for a in alice.seen(Ack) if a.client_msg_id.startswith("full-")]
            await round_trip(bob)
            assert len(bob.seen(MessagePosted)) == len(before)
            # A login needs a write (its token): refused as unavailable, try later.
            late = await Wire.open(server.url)
            wires.append(late)
            await late.send(Login(protocol=PROTOCOL_VERSION, username="bob", password=PASSWORD))
            assert (await late.find(Error)).code == ErrorCode.UNAVAILABLE
            closed = await late.wait_closed()
            assert closed.rcvd is not None and closed.rcvd.code == CloseCode.TRY_AGAIN_LATER
            # A session token needs no write: a reconnecting client still gets in.
            again = await hello(server.url, alice.welcome.token)
            wires.append(again)
            # The client core keeps its message and retries on its own.
            cid = carol.client.send(general, "sent by carol while the disk was full")
            await carol.until(lambda: carol.client.refusal(cid) is not None)
            refusal = carol.client.refusal(cid)
            assert refusal is not None and refusal.code == ErrorCode.UNAVAILABLE
            assert carol.acked == {} and carol.client.outbox.pending_count() == 1
            # Everything acknowledged is still there.
            assert [row[3] for row in server_log(server, general)] == before

        # Space is back: the same ids are stored now, once; carol's retry goes through.
        for wire in wires:
            await wire.close()
        alice = await login(server.url, "alice", PASSWORD)
        wires.append(alice)
        await send_all(alice, general, refused)
        got = await answers(alice, refused)
        assert all(isinstance(a, Ack) and not a.duplicate for a in got.values()), got
        async with asyncio.timeout(DEADLINE):
            await carol.client.flush()
        assert carol.acked.keys() == {cid}
    finally:
        await carol.client.close()
        for wire in wires:
            await wire.close()

    # Killed now, nothing acknowledged is missing, in order, and the file is sound.
    await server.kill()
    await server.start()
    log = server_log(server, general)
    assert [row[3] for row in log] == [*before, *refused, cid]
    assert [row[0] for row in log] == list(range(1, len(log) + 1))
    assert server.read("PRAGMA integrity_check") == [("ok",)]
    assert await server.stop() == 0
    assert "Traceback" not in server.log()


# ------------------------------------------------------------- in the process


Toggle = Callable[[bool], Awaitable[None]]


def make_full(db: Database) -> Toggle:
    async def toggle(on: bool) -> None:
        async with db.write() as conn:
            # SQLite keeps the larger of this and the current size: 1 means "no growth".
            await conn.execute(f"PRAGMA max_page_count = {1 if on else 1073741823}")

    return toggle


def make_read_only(db: Database) -> Toggle:
    async def toggle(on: bool) -> None:
        # Not through ``write()``: a read-only connection cannot begin a write.
        await db._writer.execute(f"PRAGMA query_only = {int(on)}")

    return toggle


@pytest.mark.parametrize(
    ("fault", "sqlite_says"),
    [(make_full, "database or disk is full"), (make_read_only, "readonly database")],
    ids=["sqlite-full", "sqlite-readonly"],
)
async def test_storage_refusals_are_unavailable_and_nothing_is_half_done(
    srv: Running,
    fault: Callable[[Database], Toggle],
    sqlite_says: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    bob = await srv.connect("bob")
    general = room_id(alice)
    for n in range(3):
        await post(alice, general, f"kept {n}")
    toggle = fault(srv.services.db)

    await toggle(True)
    cids = [f"refused-{n}" for n in range(5)]
    await send_all(alice, general, cids, padding=3500)  # each needs a page of its own
    got = await answers(alice, cids)
    assert {a.code for a in got.values() if isinstance(a, Error)} == {ErrorCode.UNAVAILABLE}
    assert len(got) == 5
    if fault is make_read_only:  # a full database still takes what fits its pages
        await alice.send(CreateRoom(name="not-now", rid="create"))
        error = await alice.find(Error, where=lambda e: e.rid == "create")
        assert error.code == ErrorCode.UNAVAILABLE
    await round_trip(bob)
    assert len(bob.seen(MessagePosted)) == 3
    assert sqlite_says in caplog.text  # the cause is in the server's log, for its operator
    rows = await srv.services.db.fetch_all("SELECT seq FROM messages ORDER BY seq")
    assert [r[0] for r in rows] == [1, 2, 3]
    assert await srv.services.db.fetch_one("SELECT 1 FROM rooms WHERE name = 'not-now'") is None

    await toggle(False)
    alice = await srv.connect("alice")  # a fresh connection: only its own answers
    await send_all(alice, general, cids, padding=3500)
    got = await answers(alice, cids)
    acks = [a for a in got.values() if isinstance(a, Ack)]
    assert [a.seq for a in acks] == [4, 5, 6, 7, 8]
    rows = await srv.services.db.fetch_all("SELECT count(*) FROM messages")
    assert rows[0][0] == 8
