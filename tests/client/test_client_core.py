"""The ``Client`` facade as a UI drives it: states of an outgoing message, typing,
and starting offline, then connecting once the server is there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from shared.frames import MarkRead, MessagePosted, Ok, RoomJoined, Typing
from tchat_client.core import Client, ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.core.events import (
    ChangeEvent,
    ConnectionChanged,
    MessageStateChanged,
    TypingChanged,
)
from tests.client.conftest import eventually
from tests.client.proxy import Proxy
from tests.conftest import PASSWORD, Running

Start = Callable[..., Awaitable[Running]]


async def test_message_states_from_queued_to_read_and_typing(srv: Running, tmp_path: Path) -> None:
    await srv.user("alice")
    await srv.user("bob")
    profile = await sign_in(ProfileStore(tmp_path, tmp_path), srv.url, "alice", PASSWORD)
    bob = await srv.connect("bob")
    events: list[ChangeEvent] = []
    async with Client(profile) as client:
        client.subscribe(events.append)
        cid = client.send_to("@bob", "are you there?")
        ack = await client.wait_delivered(cid)
        joined = await bob.expect(RoomJoined)
        assert joined.room.id == ack.room
        await bob.expect(MessagePosted)
        await bob.send(Typing(room=ack.room))
        await bob.send(MarkRead(room=ack.room, seq=ack.seq, rid="r"))
        await bob.expect(Ok)

        async def read() -> bool:
            return client.state.messages(ack.room)[-1].state == "read"

        await eventually(read)
        assert client.state.typing(ack.room) == ("bob",)
    states = [
        e.state for e in events if isinstance(e, MessageStateChanged) and e.client_msg_id == cid
    ]
    assert states == ["sent", "delivered", "read"]
    assert TypingChanged(ack.room, ("bob",)) in events


async def test_starting_offline_then_the_server_comes(
    start_server: Start, proxy_to: Callable[[Running], Awaitable[Proxy]], tmp_path: Path
) -> None:
    first = await start_server()
    await first.user("alice")
    proxy = await proxy_to(first)
    profile = await sign_in(ProfileStore(tmp_path, tmp_path), proxy.url, "alice", PASSWORD)
    await first.stop()

    events: list[ChangeEvent] = []
    client = Client(profile)
    client.subscribe(events.append)
    try:
        await client.start(wait=False)  # a UI shows the cache and keeps trying
        cid = client.send_to("general", "typed while offline")
        assert client.state.outgoing[cid].state == "queued"

        async def retrying() -> bool:
            return any(
                isinstance(e, ConnectionChanged) and e.status == "disconnected" for e in events
            )

        await eventually(retrying)
        second = await start_server()
        proxy.retarget(second.server.port)
        await client.wait_ready()
        ack = await client.wait_delivered(cid)
        assert ack.seq == 1 and client.outbox.pending_count() == 0
    finally:
        await client.close()
    statuses = [e.status for e in events if isinstance(e, ConnectionChanged)]
    assert (
        statuses[0] == "connecting" and "disconnected" in statuses and statuses[-1] == "connected"
    )


async def test_a_receipt_given_while_away_shows_on_return(srv: Running, tmp_path: Path) -> None:
    """bob reads alice's DM while alice's client is closed: her next start shows it
    read, from the welcome's ``others_read_seq``."""
    await srv.user("alice")
    await srv.user("bob")
    profile = await sign_in(ProfileStore(tmp_path, tmp_path), srv.url, "alice", PASSWORD)
    bob = await srv.connect("bob")
    async with Client(profile) as client:
        ack = await client.wait_delivered(client.send_to("@bob", "read me later"))
        assert client.state.messages(ack.room)[-1].state == "delivered"
    await bob.expect(MessagePosted, lambda f: f.message.seq == ack.seq)
    await bob.send(MarkRead(room=ack.room, seq=ack.seq, rid="r2"))
    await bob.expect(Ok, lambda f: f.rid == "r2")
    async with Client(profile) as client:
        assert client.state.rooms[ack.room].others_read_seq == ack.seq
        assert client.state.messages(ack.room)[-1].state == "read"
