"""SIGTERM while clients send: sockets close with 1001, the process exits 0 within
the grace period, and after a restart the clients resend and resume with nothing
lost or stored twice. The server logs JSON lines that hold no secret."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from shared.errors import CloseCode
from shared.frames import (
    PROTOCOL_VERSION,
    Ack,
    Error,
    Login,
    MessagePosted,
    Resumed,
    Send,
    Welcome,
)
from tests.conftest import PASSWORD
from tests.selfhost.conftest import ServerProcess, Spawn, server_env
from tests.wire import Wire, hello, register

GRACE = 5.0


def body_of(cid: str) -> str:
    return f"private body {cid}"


class Sender:
    """Sends in batches of ten, waiting for each batch's acks; once ``signal_after``
    acks have come, it sends one more batch and signals the server at once, so
    that sends are in flight, then goes on sending until the socket closes."""

    def __init__(self, wire: Wire, room: int, prefix: str) -> None:
        self.wire, self.room, self.prefix = wire, room, prefix
        self.sent: list[str] = []
        self.acked: dict[str, int] = {}

    async def run(self, server: ServerProcess | None, signal_after: int) -> float:
        signalled = 0.0
        n = 0
        while self.wire.closed is None:
            batch = [f"{self.prefix}{n + i}" for i in range(10)]
            n += 10
            try:
                for cid in batch:
                    await self.wire.send(Send(client_msg_id=cid, body=body_of(cid), room=self.room))
                    self.sent.append(cid)
            except ConnectionClosed:
                break
            if server is not None and not signalled and len(self.acked) >= signal_after:
                server.proc.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
            for cid in batch:
                ack = await self._ack(cid)
                if ack is not None:
                    self.acked[cid] = ack.seq
        return signalled

    async def _ack(self, cid: str) -> Ack | None:
        try:
            return await self.wire.find(Ack, where=lambda a: a.client_msg_id == cid)
        except AssertionError:  # the connection closed first
            return None


async def test_sigterm_during_sends_loses_nothing(tmp_path: Path, spawn: Spawn) -> None:
    data = tmp_path / "data"
    env = server_env(registration="open", shutdown_grace=str(GRACE), log_format="json")
    server = await spawn(data, env=env)

    wires: dict[str, Wire] = {}
    for name in ("alice", "bob", "carol"):
        wires[name] = await register(server.url, name, PASSWORD)
        wires[name].welcome = await wires[name].expect(Welcome)
    welcome = wires["alice"].welcome
    assert welcome is not None
    room = next(r.id for r in welcome.rooms if r.name == "general")
    # A failed login, to show its password stays out of the logs.
    bad = await Wire.open(server.url)
    await bad.send(Login(protocol=PROTOCOL_VERSION, username="alice", password="hunter2-wrong"))
    await bad.expect(Error)
    await bad.close()

    alice = Sender(wires["alice"], room, "a")
    bob = Sender(wires["bob"], room, "b")
    signalled, _ = await asyncio.gather(alice.run(server, 100), bob.run(None, 0))
    for wire in wires.values():  # carol only reads
        closed = await wire.wait_closed()
        assert closed.rcvd is not None and closed.rcvd.code == CloseCode.GOING_AWAY
    assert await server.finish() == 0
    assert time.monotonic() - signalled < GRACE
    assert len(alice.acked) >= 100 and len(alice.sent) > len(alice.acked)

    # Restart on the same data. Senders resend what was not acked; carol resumes.
    again = await spawn(data, env=env)
    carol_seen = {p.message.seq for p in wires["carol"].seen(MessagePosted)}
    tokens = {name: w.welcome.token for name, w in wires.items() if w.welcome is not None}
    carol = await hello(
        again.url, str(tokens["carol"]), epoch=welcome.epoch, resume={room: max(carol_seen)}
    )
    resumed = await carol.expect(Resumed)
    assert resumed.epoch_ok
    for sender, name in ((alice, "alice"), (bob, "bob")):
        wire = await hello(again.url, str(tokens[name]))
        for cid in sender.sent:
            if cid not in sender.acked:
                await wire.send(Send(client_msg_id=cid, body=body_of(cid), room=room))
        for cid in sender.sent:
            if cid not in sender.acked:
                ack = await wire.find(Ack, where=lambda a, cid=cid: a.client_msg_id == cid)
                sender.acked[cid] = ack.seq
        await wire.close()

    everything = {**alice.acked, **bob.acked}
    assert len(everything) == len(alice.sent) + len(bob.sent)
    last = max(everything.values())
    await carol.find(MessagePosted, where=lambda p: p.message.seq == last)
    carol_seen |= {p.message.seq for p in carol.seen(MessagePosted)}
    assert carol_seen == set(range(1, last + 1))  # nothing missed, by resume or live
    await carol.close()
    again.proc.send_signal(signal.SIGTERM)
    assert await again.finish() == 0

    with closing(sqlite3.connect(data / "tchat.db")) as conn:
        rows = dict(conn.execute("SELECT client_msg_id, seq FROM messages").fetchall())
    assert rows == everything  # each sent once, at the seq its ack named
    assert sorted(rows.values()) == list(range(1, len(rows) + 1))

    # The logs: JSON lines, the shutdown told, and no password, token or body.
    for process in (server, again):
        records = process.json_logs()
        events = {r.get("event") for r in records}
        assert {"listening", "connected", "stopping", "stopped"} <= events
        text = "\n".join(process.lines["stderr"])
        assert PASSWORD not in text and "hunter2-wrong" not in text
        assert "private body" not in text
        assert all(token not in text for token in map(str, tokens.values()))
    assert any(r.get("event") == "login_failed" for r in server.json_logs())


async def test_exit_within_the_grace_period_despite_a_stuck_client(
    tmp_path: Path, spawn: Spawn
) -> None:
    """A client that never answers the close: the server still exits 0 in time."""
    server = await spawn(tmp_path / "data", env=server_env(shutdown_grace="1"))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    await writer.drain()
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert await server.finish() == 0
    assert time.monotonic() - started < 1 + 3  # not websockets' 10 s close timeout
    writer.close()
