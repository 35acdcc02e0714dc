"""A client that stops reading never stalls the others, and is cut off with 4004."""

from __future__ import annotations

import asyncio
import socket

from shared.errors import CloseCode
from shared.frames import PROTOCOL_VERSION, Login, MessagePosted, Welcome
from tests.conftest import PASSWORD, Running
from tests.server.util import FAST, StartServer, post_many, room_id, round_trip
from tests.wire import Wire


async def connect_with_small_buffer(srv: Running, name: str) -> Wire:
    """Log in over a socket with a tiny receive buffer, so that a client which stops
    reading backs the server up after kilobytes rather than megabytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", srv.server.port))
    wire = await Wire.open(srv.url, sock=sock)
    srv.wires.append(wire)
    await wire.send(Login(protocol=PROTOCOL_VERSION, username=name, password=PASSWORD))
    wire.welcome = await wire.find(Welcome)
    return wire


async def test_a_client_that_stops_reading_is_dropped_without_stalling_others(
    start_server: StartServer,
) -> None:
    srv = await start_server(outbound_queue_frames=200, **FAST)
    for name in ("alice", "bob", "carol"):
        await srv.user(name)
    alice = await srv.connect("alice")
    bob = await srv.connect("bob")
    carol = await connect_with_small_buffer(srv, "carol")
    general = room_id(alice)
    await round_trip(carol)

    user = await srv.services.users.get_by_name("carol")
    assert user is not None
    (session,) = srv.services.hub.sessions_of(user.id)

    carol.ws.transport.pause_reading()
    body = "x" * 3900
    total = 0
    # Post until carol's queue overflows: first the kernel's socket buffers fill
    # (megabytes on loopback), then 200 frames wait in her queue.
    while not session.closing:
        assert total < 10_000, "carol was never cut off"
        # In chunks, so that alice's own bursts (message + ack) stay well below 200.
        acks = await post_many(alice, general, 40, f"chunk{total}", padding=body)
        total += len(acks)
        assert acks[-1].seq == total

    # Everyone else got everything, in order, while carol was not reading.
    await bob.find(MessagePosted, where=lambda p: p.message.seq == total)
    for wire in (alice, bob):
        assert [p.message.seq for p in wire.seen(MessagePosted)] == list(range(1, total + 1))
        await round_trip(wire)

    # Once carol reads again, she finds what the kernel held, then the close.
    carol.ws.transport.resume_reading()
    closed = await carol.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.TOO_SLOW
    got = [p.message.seq for p in carol.seen(MessagePosted)]
    assert got == list(range(1, len(got) + 1)) and len(got) < total
    assert alice.closed is None and bob.closed is None
