"""Mentions (@name, @here, @room), notification levels and mark-unread."""

from __future__ import annotations

from shared.errors import ErrorCode
from shared.frames import (
    Ack,
    CreateRoom,
    Delete,
    Join,
    MarkRead,
    MarkUnread,
    RoomUpdated,
    Send,
    SetNotify,
)
from shared.shapes import RoomInfo
from tests.conftest import Running
from tests.server.changes_util import ok, people, refused, send
from tests.server.util import room_id
from tests.wire import next_rid


async def info(srv: Running, name: str, room: int) -> RoomInfo:
    """The room as that user's next welcome would show it."""
    user = await srv.services.users.get_by_name(name)
    assert user is not None
    infos = await srv.services.rooms.room_infos(user.id, room)
    assert len(infos) == 1
    found: RoomInfo = infos[0]
    return found


async def test_at_room_mentions_every_member_and_at_here_the_online_ones(srv: Running) -> None:
    await srv.user("carol")  # a member of #general who is not connected
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)

    await send(alice, general, "@here standup in 5")
    assert (await info(srv, "bob", general)).mentions == 1
    assert (await info(srv, "carol", general)).mentions == 0
    assert (await info(srv, "alice", general)).mentions == 0

    await send(alice, general, "release today, @room")
    assert (await info(srv, "bob", general)).mentions == 2
    assert (await info(srv, "carol", general)).mentions == 1
    assert (await info(srv, "alice", general)).mentions == 0  # never the author

    await send(bob, general, "@Everyone and @channel count once")
    assert (await info(srv, "carol", general)).mentions == 2
    assert (await info(srv, "alice", general)).mentions == 1
    assert (await info(srv, "bob", general)).mentions == 0  # posting read the room


async def test_set_notify_is_stored_and_reaches_every_own_session(srv: Running) -> None:
    (alice,) = await people(srv, "alice")
    other = await srv.connect("alice")
    general = room_id(alice)
    assert alice.welcome is not None
    # As in Slack: a channel alerts on mentions by default (DMs and groups: all).
    assert alice.welcome.rooms[0].notify == "mentions" and not alice.welcome.rooms[0].muted

    await ok(alice, SetNotify(room=general, level="mentions", muted=True, rid=next_rid()))
    for wire in (alice, other):
        pushed = await wire.expect(RoomUpdated)
        assert pushed.room.id == general
        assert pushed.room.notify == "mentions" and pushed.room.muted

    await ok(alice, SetNotify(room=general, level="none", rid=next_rid()))
    pushed = await other.expect(RoomUpdated)
    assert pushed.room.notify == "none" and pushed.room.muted  # unset fields stay

    again = await srv.connect("alice")
    assert again.welcome is not None
    room = next(r for r in again.welcome.rooms if r.id == general)
    assert room.notify == "none" and room.muted


async def test_set_notify_and_mark_unread_outside_your_rooms_are_refused(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    await ok(alice, CreateRoom(name="inner", kind="group", rid=next_rid()))
    await ok(alice, CreateRoom(name="lobby", rid=next_rid()))
    group = await srv.services.room_store.get_by_name("inner")
    channel = await srv.services.room_store.get_by_name("lobby")
    assert group is not None and channel is not None
    await send(alice, channel.id, "hello")

    code = await refused(bob, SetNotify(room=group.id, level="none", rid=next_rid()))
    assert code == ErrorCode.ROOM_NOT_FOUND
    code = await refused(bob, SetNotify(room=channel.id, muted=True, rid=next_rid()))
    assert code == ErrorCode.NOT_MEMBER
    code = await refused(bob, MarkUnread(room=channel.id, seq=1, rid=next_rid()))
    assert code == ErrorCode.NOT_MEMBER
    rows = await srv.services.db.fetch_all(
        "SELECT room_id, notify, notify_muted FROM members WHERE user_id = "
        "(SELECT id FROM users WHERE name = 'bob')"
    )
    assert [(r[1], r[2]) for r in rows] == [("mentions", 0)]  # #general only, untouched


async def test_mark_unread_moves_the_marker_back_and_recounts(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    for n in range(3):
        await send(alice, general, f"news {n}")
    await ok(bob, MarkRead(room=general, seq=3, rid=next_rid()))
    assert (await info(srv, "bob", general)).unread == 0

    await ok(bob, MarkUnread(room=general, seq=2, rid=next_rid()))
    pushed = await bob.expect(RoomUpdated)
    assert pushed.room.last_read_seq == 1 and pushed.room.unread == 2
    stored = await info(srv, "bob", general)
    assert stored.last_read_seq == 1 and stored.unread == 2

    # Past the end it is clamped: nothing is unread beyond the latest message.
    await ok(bob, MarkUnread(room=general, seq=50, rid=next_rid()))
    pushed = await bob.expect(RoomUpdated)
    assert pushed.room.last_read_seq == 3 and pushed.room.unread == 0


async def test_a_deleted_message_no_longer_mentions_anyone(srv: Running) -> None:
    alice, _bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    ack = await send(alice, general, "@bob and @room: look")
    assert (await info(srv, "bob", general)).mentions == 1
    await ok(alice, Delete(room=general, seq=ack.seq, rid=next_rid()))
    assert (await info(srv, "bob", general)).mentions == 0


async def test_default_levels_follow_the_room_kind(srv: Running) -> None:
    """Channels alert on mentions, DMs and groups on every message, for members
    added every way: created with the room, joining, invited, a first DM."""
    alice, bob = await people(srv, "alice", "bob")
    await ok(alice, CreateRoom(name="crew", kind="group", members=["bob"], rid=next_rid()))
    await ok(alice, CreateRoom(name="lobby", members=["bob"], rid=next_rid()))
    await ok(alice, CreateRoom(name="open", rid=next_rid()))
    await ok(bob, Join(name="open", rid=next_rid()))
    await alice.send(Send(client_msg_id="first-dm", body="hi", dm="bob"))
    await alice.find(Ack, where=lambda ack: ack.client_msg_id == "first-dm")
    rows = await srv.services.db.fetch_all(
        "SELECT r.kind, m.notify FROM members m JOIN rooms r ON r.id = m.room_id "
        "WHERE m.user_id = (SELECT id FROM users WHERE name = 'bob') ORDER BY r.id"
    )
    levels = {(row[0], row[1]) for row in rows}
    assert levels == {("channel", "mentions"), ("group", "all"), ("dm", "all")}
    assert len(rows) == 5  # #general, crew, lobby, open, the DM
