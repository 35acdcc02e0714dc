"""Resume of changes: a returning client names its change cursor per room
(``hello.changes``) and gets exactly the messages it holds that changed since."""

from __future__ import annotations

from shared.codec import encode
from shared.frames import (
    Delete,
    Edit,
    History,
    HistoryPage,
    MessagePosted,
    MessageUpdated,
    React,
    Resumed,
    Welcome,
)
from shared.shapes import MessageInfo, Reaction
from tchat_server.hub import Hub
from tchat_server.session import Session
from tests.conftest import Running
from tests.server.changes_util import latest_change, ok, people, send, updated
from tests.server.util import StartServer, room_id
from tests.wire import Wire, hello, next_rid


async def come_back(srv: Running, token: str, **fields: object) -> tuple[Wire, list[object]]:
    """Hello again; the frames between the welcome and ``resumed`` (inclusive)."""
    wire = await hello(srv.url, token, **fields)
    srv.wires.append(wire)
    await wire.find(Resumed)
    assert isinstance(wire.frames[0], Welcome)
    end = next(i for i, f in enumerate(wire.frames) if isinstance(f, Resumed))
    return wire, list(wire.frames[1 : end + 1])


async def test_an_offline_member_gets_exactly_the_changes_it_missed(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    acks = [await send(alice, general, f"m{n}") for n in range(1, 5)]
    await ok(alice, React(room=general, seq=acks[0].seq, emoji="👍", rid=next_rid()))
    await updated(bob, acks[0].seq, change=1)  # bob saw change 1: his cursor
    assert bob.welcome is not None and bob.welcome.token is not None
    token, epoch = bob.welcome.token, bob.welcome.epoch
    await bob.close()

    await ok(alice, Edit(room=general, seq=acks[1].seq, body="m2 (fixed)", rid=next_rid()))
    await ok(alice, Delete(room=general, seq=acks[2].seq, rid=next_rid()))
    await ok(alice, React(room=general, seq=acks[0].seq, emoji="🎉", rid=next_rid()))
    newer = await send(alice, general, "m5")
    await ok(alice, Edit(room=general, seq=newer.seq, body="m5 (fixed)", rid=next_rid()))
    assert await latest_change(srv, general) == 5

    _, frames = await come_back(srv, token, epoch=epoch, resume={general: 4}, changes={general: 1})
    # The message bob lacks comes whole (already edited), then the changes to what
    # he holds, in change order; m4 (unchanged) and change 1 (seen) are not sent.
    assert isinstance(frames[0], MessagePosted)
    assert frames[0].message.seq == newer.seq and frames[0].message.body == "m5 (fixed)"
    changes = frames[1:-1]
    assert all(isinstance(f, MessageUpdated) for f in changes)
    messages = [f.message for f in changes]  # type: ignore[attr-defined]
    assert [(m.seq, m.change) for m in messages] == [(2, 2), (3, 3), (1, 4)]
    assert messages[0].body == "m2 (fixed)" and messages[0].edited is not None
    assert messages[1].deleted and messages[1].body == ""
    assert messages[2].reactions == [
        Reaction(emoji="👍", users=["alice"]),
        Reaction(emoji="🎉", users=["alice"]),
    ]
    resumed = frames[-1]
    assert isinstance(resumed, Resumed)
    (room,) = resumed.rooms
    assert (room.replayed, room.latest_change, room.changes_replayed) == (1, 5, 3)
    assert not room.changes_truncated


async def test_too_many_changes_replay_none(start_server: StartServer) -> None:
    srv = await start_server(resume_cap=2)
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    acks = [await send(alice, general, f"m{n}") for n in range(3)]
    assert bob.welcome is not None and bob.welcome.token is not None
    token, epoch = bob.welcome.token, bob.welcome.epoch
    await bob.close()
    for ack in acks:
        await ok(alice, Edit(room=general, seq=ack.seq, body="edited", rid=next_rid()))

    _, frames = await come_back(srv, token, epoch=epoch, resume={general: 3}, changes={general: 0})
    assert len(frames) == 1  # nothing but resumed
    resumed = frames[0]
    assert isinstance(resumed, Resumed)
    (room,) = resumed.rooms
    assert room.changes_truncated and room.changes_replayed == 0
    assert room.latest_change == 3  # the cursor to use once the client has refetched


async def test_no_changes_without_a_cursor_or_for_rooms_left_unlisted(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    ack = await send(alice, general, "m1")
    assert bob.welcome is not None and bob.welcome.token is not None
    token, epoch = bob.welcome.token, bob.welcome.epoch
    await bob.close()
    await ok(alice, Edit(room=general, seq=ack.seq, body="m1!", rid=next_rid()))

    _, frames = await come_back(srv, token, epoch=epoch, resume={general: 1})
    assert len(frames) == 1
    resumed = frames[0]
    assert isinstance(resumed, Resumed)
    assert resumed.rooms[0].latest_change == 1 and resumed.rooms[0].changes_replayed == 0


async def test_changes_survive_a_restart(start_server: StartServer) -> None:
    first = await start_server()
    alice, bob = await people(first, "alice", "bob")
    general = room_id(alice)
    parent = await send(alice, general, "plan")
    await send(bob, general, "agreed", reply_to=parent.seq)
    gone = await send(alice, general, "oops")
    await ok(alice, Edit(room=general, seq=parent.seq, body="the plan", rid=next_rid()))
    await ok(bob, React(room=general, seq=parent.seq, emoji=":tada:", rid=next_rid()))
    await ok(alice, Delete(room=general, seq=gone.seq, rid=next_rid()))
    assert alice.welcome is not None and alice.welcome.token is not None
    token = alice.welcome.token
    await first.stop()

    second = await start_server()
    alice = await hello(second.url, token)
    second.wires.append(alice)
    assert alice.welcome is not None
    assert alice.welcome.rooms[0].latest_change == 4
    rid = next_rid()
    await alice.send(History(room=general, rid=rid))
    page = await alice.find(HistoryPage, where=lambda h: h.rid == rid)
    plan, reply, oops = page.messages
    assert (plan.body, plan.reply_count, plan.change) == ("the plan", 1, 3)
    assert plan.edited is not None
    assert plan.reactions == [Reaction(emoji="🎉", users=["bob"])]
    assert reply.reply is not None and reply.reply.snippet == "the plan"
    assert oops.deleted and oops.body == ""
    # Change numbers go on from where they were.
    await ok(alice, React(room=general, seq=parent.seq, emoji="👍", rid=next_rid()))
    assert (await updated(alice, parent.seq)).change == 5


async def test_changes_held_during_a_resume_are_all_delivered_after_it() -> None:
    """A ``message_updated`` published while the handshake holds live events is
    published without a seq, so the release's filter (which drops message_posted
    copies of replayed seqs) keeps it, even for a message the replay covered."""
    sent: list[bytes] = []

    async def send_frame(data: bytes) -> None:
        sent.append(data)

    async def close(code: int, reason: str) -> None:
        return None

    session = Session(
        user_id=1,
        user_name="bob",
        is_admin=False,
        token_hash=b"t",
        address="127.0.0.1",
        send=send_frame,
        close=close,
        max_queue=100,
    )
    hub = Hub()
    hub.add_member(7, 1)
    hub.attach(session)
    session.hold()
    message = MessageInfo(room=7, seq=3, id=3, author="alice", body="hi", ts=1.0, change=4)
    hub.publish(7, encode(MessageUpdated(message=message)))  # as a change is published
    session.release({7: 3})  # the replay covered seq 3
    assert session.queued == 1  # the change was kept
    hub.publish(7, encode(MessagePosted(message=message)), seq=3)  # a late live copy
    assert session.queued == 1  # ... is dropped, as before
