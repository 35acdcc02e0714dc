"""A lean WebSocket client for load generation: RFC 6455 on a bare asyncio Protocol.

The websockets library costs tens of microseconds per received frame in Python; a
load generator built on it saturates before the server does. This client does the
HTTP upgrade itself, masks what it sends (as RFC 6455 requires of clients), answers
pings and closes, and reads frames by their headers only. It never decodes JSON:
it counts deliveries as occurrences of ``"body":"`` in text frames (a JSON string
cannot contain that sequence unescaped, so each occurrence is one message, whether
the frame holds one event, an array of events, or a relay's raw ``send``) and, when
asked to, reads the send time that the benchmark writes at the start of each body.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import struct
import time
from collections.abc import Callable
from typing import cast

__all__ = ["BODY", "BenchClient", "Stats", "body_for", "frame_text"]

BODY = b'"body":"'
_STAMP = re.compile(rb'"body":"b(\d+) (\d+)')


def body_for(sender: int, padding: str = "") -> str:
    """A message body: ``b<sender> <monotonic ns at send> <padding>``."""
    return f"b{sender} {time.monotonic_ns()} {padding}"


def frame_text(payload: bytes) -> bytes:
    """One masked, final text frame (client to server)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    return header + mask + _mask(payload, mask)


def _control(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask + _mask(payload, mask)


def _mask(payload: bytes, mask: bytes) -> bytes:
    if not payload:
        return b""
    n = len(payload)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


class Stats:
    """Counters shared by every client of one load-generator process."""

    def __init__(self) -> None:
        self.deliveries = 0
        self.frames = 0
        self.errors = 0
        self.latencies_ns: list[int] = []
        self.sampling = False


class BenchClient(asyncio.Protocol):
    """One connection. ``on_welcome``/``on_text`` are optional hooks."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        first_frame: bytes,
        stats: Stats,
        *,
        probe: bool = False,
        marker: bytes | None = None,
        on_echo: Callable[[BenchClient], None] | None = None,
        wait_for: bytes | None = None,
    ) -> None:
        self.host, self.port, self.path = host, port, path
        self.first_frame = first_frame
        self.stats = stats
        self.probe = probe
        self.marker = marker
        """The start of this client's own bodies: counts its echoes (closed loop)."""
        self.on_echo = on_echo
        self.echoes = 0
        self.wait_for = wait_for
        """A byte string whose first sight (after the welcome) sets ``ready``."""
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._upgraded = False
        self._key = base64.b64encode(os.urandom(16)).decode()
        loop = asyncio.get_running_loop()
        self.welcomed: asyncio.Future[float] = loop.create_future()
        self.ready: asyncio.Future[float] = loop.create_future()
        self.closed: asyncio.Future[int | None] = loop.create_future()
        self.close_code: int | None = None
        self.sent = 0
        self.msgs = 0
        """Messages this client sent (the load generator counts them)."""

    # ------------------------------------------------------------ protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.transport.write(request.encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        for future in (self.welcomed, self.ready):
            if not future.done():
                future.set_exception(ConnectionError(f"closed ({self.close_code})"))
                future.exception()  # nobody may be waiting: do not log it as unretrieved
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            if b" 101 " not in status:
                assert self.transport is not None
                self.transport.close()
                return
            del buf[: end + 4]
            self._upgraded = True
            self.send(self.first_frame)
        self._frames()

    def _frames(self) -> None:
        buf = self._buf
        pos, size = 0, len(buf)
        stats = self.stats
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            end = pos + head + length
            if end > size:
                break
            opcode = b0 & 0x0F
            if opcode <= 2:
                payload = bytes(buf[pos + head : end])
                self._text(payload, stats)
            elif opcode == 9:  # ping
                self.send_raw(_control(0xA, bytes(buf[pos + head : end])))
            elif opcode == 8:  # close: answer and drop
                body = bytes(buf[pos + head : end])
                self.close_code = struct.unpack("!H", body[:2])[0] if len(body) >= 2 else None
                self.send_raw(_control(0x8, body[:2]))
                if self.transport is not None:
                    self.transport.close()
                pos = end
                break
            pos = end
        if pos:
            del buf[:pos]

    def _text(self, payload: bytes, stats: Stats) -> None:
        stats.frames += 1
        if not self.welcomed.done():
            self.welcomed.set_result(time.monotonic())
            if self.wait_for is None and not self.ready.done():
                self.ready.set_result(time.monotonic())
            return
        if self.wait_for is not None and not self.ready.done() and self.wait_for in payload:
            self.ready.set_result(time.monotonic())
        count = payload.count(BODY)
        if not count:
            if b'"type":"error"' in payload:
                stats.errors += 1
            return
        stats.deliveries += count
        if self.probe and stats.sampling:
            now = time.monotonic_ns()
            stats.latencies_ns.extend(now - int(t) for _, t in _STAMP.findall(payload))
        if self.marker is not None:
            mine = payload.count(self.marker)
            if mine:
                self.echoes += mine
                if self.on_echo is not None:
                    self.on_echo(self)

    # ----------------------------------------------------------- sending

    def send(self, payload: bytes) -> None:
        self.send_raw(frame_text(payload))
        self.sent += 1

    def send_raw(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_control(0x8, struct.pack("!H", 1000)))
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def open_client(
    host: str, port: int, path: str, first_frame: bytes, stats: Stats, **kwargs: object
) -> BenchClient:
    """Connect and upgrade; the client sends ``first_frame`` once upgraded."""
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: BenchClient(host, port, path, first_frame, stats, **kwargs),  # type: ignore[arg-type]
        host,
        port,
    )
    return client
