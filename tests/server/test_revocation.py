"""Revocation: disabling an account or logging out everywhere closes live sockets."""

from __future__ import annotations

import time

from shared.errors import CloseCode, ErrorCode
from shared.frames import PROTOCOL_VERSION, Error, Hello, Logout, Ok
from tchat_server.app import open_services
from tests import conftest
from tests.conftest import Running
from tests.server.util import round_trip
from tests.wire import Wire


async def close_code(wire: Wire) -> int:
    closed = await wire.wait_closed()
    assert closed.rcvd is not None
    return closed.rcvd.code


async def hello_refused(srv: Running, token: str) -> str:
    wire = await Wire.open(srv.url)
    srv.wires.append(wire)
    await wire.send(Hello(protocol=PROTOCOL_VERSION, token=token))
    return (await wire.find(Error)).code


async def test_disabling_an_account_closes_its_sockets(srv: Running) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    bobs = [await srv.connect("bob"), await srv.connect("bob")]

    started = time.perf_counter()
    await srv.services.accounts.disable("bob")
    codes = [await close_code(bob) for bob in bobs]
    elapsed = time.perf_counter() - started

    assert codes == [CloseCode.REVOKED, CloseCode.REVOKED]
    assert elapsed < 2.0  # the sweep runs every 0.2 s here
    await round_trip(alice)
    for bob in bobs:
        assert bob.welcome is not None and bob.welcome.token is not None
        assert await hello_refused(srv, bob.welcome.token) == ErrorCode.TOKEN_INVALID


async def test_an_account_disabled_by_another_process_is_noticed(srv: Running) -> None:
    """The admin CLI opens the database itself; the sweep still finds the change."""
    await srv.user("bob")
    bob = await srv.connect("bob")
    admin = await open_services(conftest.test_config(srv.services.config.data_dir))
    try:
        await admin.accounts.disable("bob")
    finally:
        await admin.close()
    assert await close_code(bob) == CloseCode.REVOKED


async def test_logout_everywhere_closes_the_other_sockets(srv: Running) -> None:
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    here, phone, laptop = [await srv.connect("alice") for _ in range(3)]

    await here.send(Logout(everywhere=True, rid="out"))
    await here.find(Ok, where=lambda ok: ok.rid == "out")
    assert await close_code(here) == CloseCode.NORMAL
    assert await close_code(phone) == CloseCode.REVOKED
    assert await close_code(laptop) == CloseCode.REVOKED
    for wire in (here, phone, laptop):
        assert wire.welcome is not None and wire.welcome.token is not None
        assert await hello_refused(srv, wire.welcome.token) == ErrorCode.TOKEN_INVALID
    await round_trip(bob)
    # The password still works: logging out is not disabling.
    assert (await srv.connect("alice")).welcome is not None


async def test_logout_here_leaves_other_sessions_alone(srv: Running) -> None:
    await srv.user("alice")
    await srv.user("canary")
    here = await srv.connect("alice")
    other = await srv.connect("alice")
    canary = await srv.connect("canary")
    await here.send(Logout(rid="out"))
    await here.find(Ok, where=lambda ok: ok.rid == "out")
    assert await close_code(here) == CloseCode.NORMAL
    # Once a sweep has run (it closes the canary), the other session (another
    # token) is still served.
    await srv.services.accounts.disable("canary")
    assert await close_code(canary) == CloseCode.REVOKED
    await round_trip(other)
    assert other.closed is None
    assert other.welcome is not None and other.welcome.token is not None
    hello = await Wire.open(srv.url)
    srv.wires.append(hello)
    await hello.send(Hello(protocol=PROTOCOL_VERSION, token=other.welcome.token))
    await round_trip(hello)
    assert hello.seen(Error) == []
