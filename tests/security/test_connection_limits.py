"""Caps on connections: per client address (HTTP 429 before the upgrade, counted by
the real address behind a trusted proxy) and per account (``too_many_connections``,
close 1013), race-free, released when connections end; the client core waits and
retries instead of giving up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from shared.errors import CloseCode, ErrorCode
from shared.frames import PROTOCOL_VERSION, Error, Login, Welcome
from tchat_client.core import Client, ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.core.connection import Backoff
from tchat_client.core.events import ChangeEvent, ConnectionChanged
from tests.client.conftest import eventually
from tests.conftest import PASSWORD, Running
from tests.server.util import StartServer, round_trip
from tests.wire import Wire


async def upgrade(srv: Running, forwarded_for: str | None = None) -> Wire:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    wire = await Wire.open(srv.url, additional_headers=headers)
    srv.wires.append(wire)
    return wire


async def refused_status(srv: Running, forwarded_for: str | None = None) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await upgrade(srv, forwarded_for)
    return refused.value.response.status_code


async def test_connections_per_address_are_capped_and_released(start_server: StartServer) -> None:
    srv = await start_server(max_connections_per_address=4)
    await srv.user("alice")
    alice = await srv.connect("alice")  # one of the four
    idle = [await upgrade(srv) for _ in range(3)]  # never authenticated: they count too
    assert await refused_status(srv) == 429
    assert alice.closed is None
    await round_trip(alice)  # those already in are not disturbed

    await idle[0].close()

    async def admitted() -> bool:
        try:
            srv.wires.append(await Wire.open(srv.url))
        except InvalidStatus:
            return False
        return True

    await eventually(admitted)  # the slot is free once the server saw the socket go
    assert await refused_status(srv) == 429


async def test_behind_a_trusted_proxy_the_cap_counts_each_real_client(
    start_server: StartServer,
) -> None:
    srv = await start_server(max_connections_per_address=2, trusted_proxies=("127.0.0.1/32",))
    for _ in range(2):
        await upgrade(srv, forwarded_for="203.0.113.7")
    assert await refused_status(srv, forwarded_for="203.0.113.7") == 429
    # Another client behind the same proxy is not held to the first one's count.
    await upgrade(srv, forwarded_for="203.0.113.8")


async def login_frame(srv: Running, name: str) -> Wire:
    wire = await Wire.open(srv.url)
    srv.wires.append(wire)
    await wire.send(Login(protocol=PROTOCOL_VERSION, username=name, password=PASSWORD))
    return wire


async def test_sessions_per_account_are_capped_even_when_they_race(
    start_server: StartServer,
) -> None:
    srv = await start_server(max_connections_per_user=3)
    await srv.user("alice")
    await srv.user("bob")
    wires = await asyncio.gather(*(login_frame(srv, "alice") for _ in range(10)))
    firsts = [await wire.find(object) for wire in wires]
    welcomed = [w for w, f in zip(wires, firsts, strict=True) if isinstance(f, Welcome)]
    refused = [(w, f) for w, f in zip(wires, firsts, strict=True) if isinstance(f, Error)]
    assert len(welcomed) == 3 and len(refused) == 7
    for wire, error in refused:
        assert isinstance(error, Error) and error.code == ErrorCode.TOO_MANY_CONNECTIONS
        closed = await wire.wait_closed()
        assert closed.rcvd is not None and closed.rcvd.code == CloseCode.TRY_AGAIN_LATER
    # The refused logins left no token behind: only the three sessions hold one.
    rows = await srv.services.db.fetch_all(
        "SELECT count(*) FROM tokens t JOIN users u ON u.id = t.user_id "
        "WHERE u.name = 'alice' AND t.revoked_at IS NULL"
    )
    assert rows[0][0] == 3
    # Another account is not affected, and the three are still served.
    bob = await srv.connect("bob")
    for wire in [*welcomed, bob]:
        await round_trip(wire)

    # When one session ends, another may start.
    await welcomed[0].close()
    user = await srv.services.users.get_by_name("alice")
    assert user is not None

    async def detached() -> bool:
        return len(srv.services.hub.sessions_of(user.id)) == 2

    await eventually(detached)
    again = await login_frame(srv, "alice")
    assert isinstance(await again.find(Welcome), Welcome)


async def test_the_client_core_waits_for_a_free_slot(
    start_server: StartServer, tmp_path: Path
) -> None:
    srv = await start_server(max_connections_per_user=1)
    await srv.user("alice")
    profile = await sign_in(ProfileStore(tmp_path, tmp_path), srv.url, "alice", PASSWORD)
    first = await srv.connect("alice")  # the one slot
    events: list[ChangeEvent] = []
    client = Client(profile, backoff=Backoff(base=0.05, cap=0.2))
    client.subscribe(events.append)
    try:
        await client.start(wait=False)

        async def told() -> bool:
            return any(
                isinstance(e, ConnectionChanged)
                and e.status == "disconnected"
                and "another session" in e.detail
                for e in events
            )

        await eventually(told)  # refused, and it keeps trying (not "failed")
        assert client.failure is None
        await first.close()
        async with asyncio.timeout(15):
            await client.wait_ready()
        assert client.connected
    finally:
        await client.close()
