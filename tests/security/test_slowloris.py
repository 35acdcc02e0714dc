"""Sockets held open on purpose, with the default settings: an HTTP handshake sent a
byte at a time, an upgraded socket that never speaks, and a first frame sent a
byte at a time are all closed within the 5 s deadline, while others are served.

The pauses between bytes are the attack, not a way of waiting for something.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time

from shared.errors import CloseCode
from tests.conftest import Running
from tests.server.util import round_trip
from tests.wire import Wire

DEADLINE = 5.0
"""The server's default ``auth_timeout``: the handshake and the first frame."""
MARGIN = 1.0
DRIP = 0.25
"""Seconds between two bytes of the attack."""


async def drip_until_closed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
) -> bytes:
    """Write ``data`` a byte at a time (then keep quiet) until the server hangs up;
    what the server sent meanwhile."""
    received = bytearray()

    async def read() -> None:
        try:
            while chunk := await reader.read(4096):
                received.extend(chunk)
        except ConnectionError:
            pass

    reading = asyncio.ensure_future(read())
    try:
        for byte in data:
            if reading.done():
                break
            writer.write(bytes([byte]))
            try:
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.wait([reading], timeout=DRIP)
        await asyncio.wait_for(reading, DEADLINE + MARGIN * 2)
    finally:
        writer.transport.abort()
    return bytes(received)


async def slow_http(port: int) -> tuple[float, bytes]:
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Never-Ending: " + b"a" * 200
    got = await drip_until_closed(reader, writer, request)
    return time.monotonic() - started, got


async def slow_first_frame(port: int) -> tuple[float, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE)
    assert response.startswith(b"HTTP/1.1 101"), response
    started = time.monotonic()  # the first frame's deadline starts at the upgrade
    payload = b'{"type":"login","protocol":1,"username":"alice","password":"' + b"x" * 100
    mask = os.urandom(4)
    frame = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload) + 10) + mask
    frame += bytes(b ^ mask[i % 4] for i, b in enumerate(payload))  # never completed
    got = await drip_until_closed(reader, writer, frame)
    return time.monotonic() - started, got


async def silent(url: str) -> tuple[float, int | None]:
    started = time.monotonic()
    wire = await Wire.open(url)
    closed = await wire.wait_closed(timeout=DEADLINE * 2)
    await wire.close()
    return time.monotonic() - started, closed.rcvd.code if closed.rcvd else None


async def test_slow_and_silent_sockets_are_closed_within_the_deadline(srv: Running) -> None:
    assert srv.server.config.auth_timeout == DEADLINE  # the default, not a test value
    await srv.user("bob")
    bob = await srv.connect("bob")
    port = srv.server.port
    attacks = asyncio.gather(slow_http(port), slow_first_frame(port), silent(srv.url))
    worst = 0.0
    while not attacks.done():  # bob is served throughout
        began = time.monotonic()
        await round_trip(bob)
        worst = max(worst, time.monotonic() - began)
        await asyncio.wait([attacks], timeout=0.2)
    (http_s, http_got), (frame_s, frame_got), (silent_s, silent_code) = await attacks

    # Byte by byte, the HTTP request never completes: dropped, no answer at all.
    assert http_s <= DEADLINE + MARGIN and http_got == b"", (http_s, http_got)
    # The first frame never completes: closed with 4002 at the deadline.
    assert frame_s <= DEADLINE + MARGIN, frame_s
    assert frame_got[:1] == b"\x88" and frame_got[2:4] == struct.pack("!H", CloseCode.AUTH_TIMEOUT)
    # Upgraded and silent: the same.
    assert silent_s <= DEADLINE + MARGIN and silent_code == CloseCode.AUTH_TIMEOUT
    # Each was held to the end of the deadline, not cut short by something else.
    assert min(http_s, frame_s, silent_s) >= DEADLINE - 0.5
    assert worst < 0.5 and bob.closed is None
