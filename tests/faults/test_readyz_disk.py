"""``/readyz`` reflects writes too: while commits fail (full disk, read-only
database) it answers 503, and 200 again once a write commits: a real one (a send)
or the server's own write probe, which /readyz runs at most every few seconds and
only while the last write failed.

The faults are made as in ``test_disk_full.py``: ``RLIMIT_FSIZE`` on the live
server process (the disk is full), ``PRAGMA query_only`` on the writer connection
of an in-process server (the database is read-only).
"""

from __future__ import annotations

import asyncio
import resource

import pytest

from shared.errors import ErrorCode
from shared.frames import Ack, Error
from tests.conftest import PASSWORD, Running
from tests.faults.process import StartProcess
from tests.faults.test_disk_full import answers, disk_full, make_read_only, send_all
from tests.server.util import room_id
from tests.wire import login


async def readyz(port: int) -> tuple[int, str]:
    """GET /readyz on the server's port: (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    await writer.drain()
    response = (await asyncio.wait_for(reader.read(), 10)).decode()
    writer.close()
    await writer.wait_closed()
    head, _, body = response.partition("\r\n\r\n")
    return int(head.split(" ", 2)[1]), body


async def test_readyz_is_503_while_the_database_is_read_only(srv: Running) -> None:
    await srv.user("alice")
    alice = await srv.connect("alice")
    general = room_id(alice)
    port = srv.server.port
    assert await readyz(port) == (200, "ok\n")
    toggle = make_read_only(srv.services.db)

    await toggle(True)
    await send_all(alice, general, ["refused"])
    got = await answers(alice, ["refused"])
    assert isinstance(got["refused"], Error) and got["refused"].code == ErrorCode.UNAVAILABLE
    # Reads still work, yet the server says it cannot do its job.
    assert await srv.services.db.fetch_one("SELECT 1") is not None
    assert await readyz(port) == (503, "database cannot be written\n")
    assert srv.server.not_ready == "database cannot be written"  # the reason
    assert "readonly" in (srv.services.db.write_error or "")  # the cause, for the log
    assert await readyz(port) == (503, "database cannot be written\n")  # probes are spaced out

    await toggle(False)
    # The next write that commits makes it ready again, without waiting for a probe.
    await send_all(alice, general, ["kept"])
    assert isinstance((await answers(alice, ["kept"]))["kept"], Ack)
    assert await readyz(port) == (200, "ok\n")
    assert srv.services.db.write_error is None and srv.server.not_ready is None


async def test_the_write_probe_notices_recovery_without_any_send(srv: Running) -> None:
    await srv.user("alice")
    alice = await srv.connect("alice")
    general = room_id(alice)
    port = srv.server.port
    srv.server.write_probe_interval = 0  # a probe at every /readyz, not every 5 s
    toggle = make_read_only(srv.services.db)

    await toggle(True)
    await send_all(alice, general, ["refused"])
    await answers(alice, ["refused"])
    assert await readyz(port) == (503, "database cannot be written\n")  # the probe fails too
    assert await readyz(port) == (503, "database cannot be written\n")
    probe = await srv.services.db.fetch_one("SELECT 1 FROM meta WHERE key = 'write_probe'")
    assert probe is None  # nothing was written

    await toggle(False)
    assert await readyz(port) == (200, "ok\n")  # the probe's write committed
    assert await srv.services.db.fetch_one("SELECT 1 FROM meta WHERE key = 'write_probe'")
    count = await srv.services.db.fetch_one("SELECT count(*) FROM messages")
    assert count is not None and count[0] == 0  # the probe wrote no message


async def test_a_refused_write_that_is_not_a_storage_failure_keeps_it_ready(
    srv: Running,
) -> None:
    """A constraint refusal (a name taken) is an answer, not an outage."""
    await srv.user("alice")
    user = await srv.services.users.get_by_name("alice")
    assert user is not None
    again = await srv.services.users.add("alice", "alice", user.password_hash)
    assert again is None  # the unique constraint refused it
    assert srv.services.db.write_error is None
    assert await readyz(srv.server.port) == (200, "ok\n")


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs prlimit(2) (Linux)")
async def test_readyz_is_503_while_the_disk_is_full(server_process: StartProcess) -> None:
    server = await server_process(users=["alice"])
    alice = await login(server.url, "alice", PASSWORD)
    try:
        general = room_id(alice)
        assert await readyz(server.port) == (200, "ok\n")
        async with disk_full(server):
            await send_all(alice, general, ["full-0", "full-1"])
            got = await answers(alice, ["full-0", "full-1"])
            assert {a.code for a in got.values() if isinstance(a, Error)} == {ErrorCode.UNAVAILABLE}
            assert await readyz(server.port) == (503, "database cannot be written\n")
        # Space is back: the next send commits, and readiness follows.
        await send_all(alice, general, ["after"])
        assert isinstance((await answers(alice, ["after"]))["after"], Ack)
        assert await readyz(server.port) == (200, "ok\n")
    finally:
        await alice.close()
    assert await server.stop() == 0
