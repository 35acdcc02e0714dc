"""A client_msg_id stores one message, whichever socket repeats it and however often."""

from __future__ import annotations

import asyncio

from shared.errors import ErrorCode
from shared.frames import Ack, MessagePosted, Send
from tests.conftest import Running
from tests.server.util import (
    FAST,
    StartServer,
    error_for,
    message_count,
    post,
    room_id,
    round_trip,
    seqs_in,
)
from tests.wire import Wire


async def test_repeat_on_one_socket_acks_the_original(srv: Running) -> None:
    await srv.user("alice")
    alice = await srv.connect("alice")
    general = room_id(alice)
    await post(alice, general, "before")

    await alice.send(Send(client_msg_id="same", body="hello", room=general, rid="first"))
    first = await alice.find(Ack, where=lambda a: a.rid == "first")
    await alice.send(Send(client_msg_id="same", body="hello", room=general, rid="second"))
    second = await alice.find(Ack, where=lambda a: a.rid == "second")

    assert not first.duplicate and second.duplicate
    assert (second.room, second.seq, second.id, second.ts) == (
        first.room,
        first.seq,
        first.id,
        first.ts,
    )
    assert first.seq == 2
    # A repeat is not published again (it would have arrived before its ack).
    posted = [p for p in alice.seen(MessagePosted) if p.message.client_msg_id == "same"]
    assert len(posted) == 1
    assert await seqs_in(srv, general) == [1, 2]
    rows = await srv.services.db.fetch_all(
        "SELECT count(*) FROM messages WHERE client_msg_id = 'same'"
    )
    assert rows[0][0] == 1


async def test_concurrent_repeats_on_two_sockets_store_once(start_server: StartServer) -> None:
    srv = await start_server(**FAST)
    await srv.user("alice")
    await srv.user("bob")
    one = await srv.connect("alice")
    two = await srv.connect("alice")
    bob = await srv.connect("bob")
    general = room_id(one)
    cids = [f"dup-{n}" for n in range(60)]

    async def send_all(wire: Wire, tag: str) -> None:
        for cid in cids:
            await wire.send(Send(client_msg_id=cid, body=f"body of {cid}", room=general, rid=tag))

    await asyncio.gather(send_all(one, "one"), send_all(two, "two"))
    for wire in (one, two):
        await wire.find(Ack, where=lambda a: a.client_msg_id == cids[-1])
    await bob.find(MessagePosted, where=lambda p: p.message.seq == len(cids))

    for cid in cids:
        acks = [a for wire in (one, two) for a in wire.seen(Ack) if a.client_msg_id == cid]
        assert len(acks) == 2, cid
        assert acks[0].seq == acks[1].seq and acks[0].id == acks[1].id
        assert sorted(a.duplicate for a in acks) == [False, True], cid
    # One row per id, seqs 1..60 with no gap, and everyone saw each message once.
    assert await message_count(srv) == len(cids)
    assert await seqs_in(srv, general) == list(range(1, len(cids) + 1))
    latest = await srv.services.db.fetch_one(
        "SELECT latest_seq FROM rooms WHERE id = ?", (general,)
    )
    assert latest is not None and latest[0] == len(cids)
    for wire in (one, two, bob):
        await round_trip(wire)
        seen = [p.message.seq for p in wire.seen(MessagePosted)]
        assert seen == list(range(1, len(cids) + 1))


async def test_reuse_for_another_room_or_body_is_refused(srv: Running) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    await srv.connect("bob")
    general = room_id(alice)
    first = await post(alice, general, "original", cid="reused")

    await alice.send(Send(client_msg_id="reused", body="original", dm="bob", rid="dm"))
    error = await error_for(alice, rid="dm")
    assert error.code == ErrorCode.CLIENT_MSG_ID_REUSED
    assert error.client_msg_id == "reused"

    await alice.send(Send(client_msg_id="reused", body="something else", room=general, rid="b"))
    error = await error_for(alice, rid="b")
    assert error.code == ErrorCode.CLIENT_MSG_ID_REUSED

    # Trailing whitespace is trimmed before storing: still the same message.
    await alice.send(Send(client_msg_id="reused", body="original  \n", room=general, rid="c"))
    again = await alice.find(Ack, where=lambda a: a.rid == "c")
    assert again.duplicate and again.seq == first.seq
    rows = await srv.services.db.fetch_all("SELECT body FROM messages")
    assert [row[0] for row in rows] == ["original"]
