"""Replies and threads: a reply quotes its parent, bumps the parent's reply count
(one change, announced), and a thread lists the replies in order."""

from __future__ import annotations

from shared.errors import ErrorCode
from shared.frames import (
    Ack,
    CreateRoom,
    Delete,
    History,
    HistoryPage,
    MessagePosted,
    Send,
    Thread,
    ThreadPage,
)
from tests.conftest import Running
from tests.server.changes_util import latest_change, ok, people, refused, row, send, updated
from tests.server.util import message_count, room_id
from tests.wire import next_rid


async def test_a_reply_is_seen_live_with_its_quote_and_the_parents_new_count(
    srv: Running,
) -> None:
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    parent = await send(alice, general, "lunch?\nat noon")
    reply = await send(bob, general, "yes!", reply_to=parent.seq)

    posted = await alice.find(MessagePosted, where=lambda p: p.message.seq == reply.seq)
    assert posted.message.reply_to == parent.seq
    assert posted.message.reply is not None
    assert posted.message.reply.author == "alice"
    assert posted.message.reply.snippet == "lunch? at noon"  # one line
    bumped = await updated(alice, parent.seq)
    assert bumped.reply_count == 1
    assert bumped.change == 1
    assert bumped.body == "lunch?\nat noon"
    assert await latest_change(srv, general) == 1

    # A reply to the reply answers the same parent (threads are one level deep).
    nested = await send(alice, general, "great", reply_to=reply.seq)
    nested_posted = await bob.find(MessagePosted, where=lambda p: p.message.seq == nested.seq)
    assert nested_posted.message.reply_to == parent.seq
    assert (await updated(bob, parent.seq, change=2)).reply_count == 2

    rid = next_rid()
    await bob.send(Thread(room=general, seq=parent.seq, rid=rid))
    page = await bob.find(ThreadPage, where=lambda t: t.rid == rid)
    assert page.parent.seq == parent.seq and page.parent.reply_count == 2
    assert [m.seq for m in page.replies] == [reply.seq, nested.seq]
    assert [m.body for m in page.replies] == ["yes!", "great"]
    assert not page.more

    # Asked of a reply, the thread is its parent's; paging goes on with `after`.
    rid = next_rid()
    await bob.send(Thread(room=general, seq=nested.seq, after=reply.seq, limit=1, rid=rid))
    page = await bob.find(ThreadPage, where=lambda t: t.rid == rid)
    assert page.parent.seq == parent.seq
    assert [m.seq for m in page.replies] == [nested.seq]

    # History shows the same current state.
    rid = next_rid()
    await alice.send(History(room=general, rid=rid))
    history = await alice.find(HistoryPage, where=lambda h: h.rid == rid)
    by_seq = {m.seq: m for m in history.messages}
    assert by_seq[parent.seq].reply_count == 2
    quote = by_seq[reply.seq].reply
    assert quote is not None and quote.seq == parent.seq


async def test_a_repeated_reply_does_not_count_twice(srv: Running) -> None:
    (alice,) = await people(srv, "alice")
    general = room_id(alice)
    parent = await send(alice, general, "question")
    frame = Send(client_msg_id="same", body="answer", room=general, reply_to=parent.seq)
    await alice.send(frame)
    await updated(alice, parent.seq)
    await alice.send(frame)
    await send(alice, general, "after")  # acks come in order: the repeat was answered
    assert (await row(srv, general, parent.seq))["reply_count"] == 1
    assert await latest_change(srv, general) == 1
    assert await message_count(srv) == 3

    # Even once the parent is deleted, a repeat gets its duplicate ack back.
    await ok(alice, Delete(room=general, seq=parent.seq, rid=next_rid()))
    await alice.send(frame)
    await send(alice, general, "later")  # acks come in order: the repeat was answered
    repeats = [a for a in alice.seen(Ack) if a.client_msg_id == "same" and a.duplicate]
    assert len(repeats) == 2 and repeats[1].seq == repeats[0].seq
    assert await message_count(srv) == 4
    assert await latest_change(srv, general) == 2


async def test_replies_to_unknown_or_deleted_messages_are_refused(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    gone = await send(alice, general, "soon gone")
    await ok(alice, Delete(room=general, seq=gone.seq, rid=next_rid()))
    before = await message_count(srv)

    unknown = Send(client_msg_id="r1", body="hm", room=general, reply_to=999)
    assert await refused(bob, unknown) == ErrorCode.MESSAGE_NOT_FOUND
    deleted = Send(client_msg_id="r2", body="hm", room=general, reply_to=gone.seq)
    assert await refused(bob, deleted) == ErrorCode.MESSAGE_NOT_FOUND
    assert await message_count(srv) == before
    assert (await row(srv, general, gone.seq))["reply_count"] == 0


async def test_no_reply_or_thread_in_a_room_you_are_not_in(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    await ok(alice, CreateRoom(name="ops", rid=next_rid()))
    room = await srv.services.room_store.get_by_name("ops")
    assert room is not None
    parent = await send(alice, room.id, "ops only")
    before = await message_count(srv)

    code = await refused(bob, Send(client_msg_id="n1", body="hi", room=room.id, reply_to=1))
    assert code == ErrorCode.NOT_MEMBER
    code = await refused(bob, Thread(room=room.id, seq=parent.seq, rid=next_rid()))
    assert code == ErrorCode.NOT_MEMBER
    assert await message_count(srv) == before
    assert (await row(srv, room.id, parent.seq))["reply_count"] == 0

    code = await refused(alice, Thread(room=room.id, seq=42, rid=next_rid()))
    assert code == ErrorCode.MESSAGE_NOT_FOUND
