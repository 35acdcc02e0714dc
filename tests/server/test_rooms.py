"""Rooms: channels, private groups, DMs, topics, history pages, typing, presence,
read markers and the unread/mention counts of the welcome."""

from __future__ import annotations

import asyncio

from shared.errors import ErrorCode
from shared.frames import (
    Ack,
    ChannelList,
    CreateRoom,
    Error,
    History,
    HistoryPage,
    Invite,
    Join,
    Leave,
    ListChannels,
    MarkRead,
    MemberJoined,
    MemberLeft,
    MemberList,
    Members,
    MessagePosted,
    Ok,
    PresenceChanged,
    ReadMarkerMoved,
    RoomJoined,
    RoomLeft,
    Send,
    SetPresence,
    SetTopic,
    TopicChanged,
    Typing,
    UserTyping,
)
from tests.conftest import Running
from tests.server.util import FAST, StartServer, error_for, post, post_many, room_id, round_trip
from tests.wire import Wire, next_rid


async def users(srv: Running, *names: str) -> list[Wire]:
    for name in names:
        await srv.user(name)
    return [await srv.connect(name) for name in names]


async def ok(wire: Wire, frame: object) -> None:
    """Send a command carrying ``rid`` and wait for its Ok."""
    rid = frame.rid  # type: ignore[attr-defined]
    await wire.send(frame)  # type: ignore[arg-type]
    await wire.find(Ok, where=lambda o: o.rid == rid)


async def refused(wire: Wire, frame: object) -> str:
    rid = frame.rid  # type: ignore[attr-defined]
    await wire.send(frame)  # type: ignore[arg-type]
    return (await error_for(wire, rid=rid)).code


async def test_channels_join_leave_invite_and_topic(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    await ok(alice, CreateRoom(name="#Design", topic="pixels", rid="c"))
    created = await alice.find(RoomJoined)
    room = created.room
    assert (room.name, room.kind, room.topic, room.member_count) == (
        "design",
        "channel",
        "pixels",
        1,
    )
    assert await refused(bob, CreateRoom(name="design", rid="dup")) == ErrorCode.NAME_TAKEN
    assert await refused(bob, CreateRoom(name="no spaces", rid="bad")) == ErrorCode.NAME_INVALID

    # Anyone may join a channel by name, with or without '#'.
    await ok(bob, Join(name="#design", rid="j"))
    joined = await bob.find(RoomJoined, where=lambda j: j.room.id == room.id)
    assert joined.room.member_count == 2
    assert (await alice.find(MemberJoined, where=lambda m: m.room == room.id)).user == "bob"
    assert await refused(bob, Join(name="design", rid="again")) == ErrorCode.ALREADY_MEMBER
    await bob.send(ListChannels(rid="list"))
    channels = await bob.find(ChannelList, where=lambda c: c.rid == "list")
    assert [(c.name, c.member_count, c.joined) for c in channels.channels] == [
        ("design", 2, True),
        ("general", 3, True),
    ]

    # Invite: carol is added and told; the members hear who invited her.
    await ok(bob, Invite(room=room.id, user="carol", rid="i"))
    assert (
        await carol.find(RoomJoined, where=lambda j: j.room.id == room.id)
    ).room.topic == "pixels"
    invited = await alice.find(MemberJoined, where=lambda m: (m.room, m.user) == (room.id, "carol"))
    assert invited.by == "bob"
    assert await refused(bob, Invite(room=room.id, user="carol", rid="i2")) == (
        ErrorCode.ALREADY_MEMBER
    )
    assert await refused(bob, Invite(room=room.id, user="zed", rid="i3")) == (
        ErrorCode.USER_NOT_FOUND
    )

    # Topic: every member hears it, the text is one line.
    await ok(carol, SetTopic(room=room.id, topic="  pixels\nand   fonts ", rid="t"))
    for wire in (alice, bob, carol):
        changed = await wire.find(TopicChanged, where=lambda t: t.room == room.id)
        assert (changed.topic, changed.by) == ("pixels and fonts", "carol")

    # Leave: the leaver is told, the rest hear it, and the leaver gets nothing more.
    await ok(carol, Leave(room=room.id, rid="l"))
    assert (await carol.find(RoomLeft)).room == room.id
    assert (await bob.find(MemberLeft, where=lambda m: m.room == room.id)).user == "carol"
    ack = await post(alice, room.id, "after carol left")
    await bob.find(MessagePosted, where=lambda p: p.message.seq == ack.seq)
    await round_trip(carol)
    assert [p for p in carol.seen(MessagePosted) if p.message.room == room.id] == []
    assert await refused(carol, Leave(room=room.id, rid="l2")) == ErrorCode.NOT_MEMBER
    assert await refused(carol, SetTopic(room=room.id, topic="x", rid="t2")) == (
        ErrorCode.NOT_MEMBER
    )
    general = room_id(alice)
    assert await refused(alice, Leave(room=general, rid="lg")) == ErrorCode.FORBIDDEN
    await alice.send(Members(room=room.id, rid="m"))
    members = await alice.find(MemberList, where=lambda m: m.rid == "m")
    assert [(m.user, m.status) for m in members.members] == [("alice", "online"), ("bob", "online")]


async def test_private_groups(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    frame = CreateRoom(name="secret", kind="group", members=["bob"], topic="shh", rid="g")
    await ok(alice, frame)
    group = (await bob.find(RoomJoined, where=lambda j: j.room.name == "secret")).room
    assert group.kind == "group"

    # Not joinable, not listed, not visible to outsiders.
    assert await refused(carol, Join(name="secret", rid="j")) == ErrorCode.ROOM_NOT_FOUND
    await carol.send(ListChannels(rid="list"))
    channels = await carol.find(ChannelList, where=lambda c: c.rid == "list")
    assert "secret" not in [c.name for c in channels.channels]
    assert await refused(carol, Members(room=group.id, rid="m")) == ErrorCode.ROOM_NOT_FOUND
    assert await refused(carol, History(room=group.id, rid="h")) == ErrorCode.ROOM_NOT_FOUND
    # A name shared with a group cannot be taken by a channel either.
    assert await refused(carol, CreateRoom(name="secret", rid="c")) == ErrorCode.NAME_TAKEN

    # Members invite others; messages reach members only.
    await ok(bob, Invite(room=group.id, user="carol", rid="i"))
    await carol.find(RoomJoined, where=lambda j: j.room.id == group.id)
    ack = await post(alice, group.id, "for the three of us")
    for wire in (bob, carol):
        posted = await wire.find(MessagePosted, where=lambda p: p.message.seq == ack.seq)
        assert posted.message.room == group.id
    assert await refused(alice, CreateRoom(name="g2", kind="group", members=["zed"], rid="z")) == (
        ErrorCode.USER_NOT_FOUND
    )


async def test_a_dm_is_made_on_the_first_message_and_reused(srv: Running) -> None:
    alice, bob = await users(srv, "alice", "bob")
    await alice.send(Send(client_msg_id="d1", body="psst", dm="bob"))
    ack = await alice.find(Ack, where=lambda a: a.client_msg_id == "d1")
    for wire, partner in ((alice, "bob"), (bob, "alice")):
        joined = await wire.find(RoomJoined, where=lambda j: j.room.kind == "dm")
        assert joined.room.id == ack.room and joined.room.dm_user == partner
        assert joined.room.name == partner and joined.room.member_count == 2
        posted = await wire.find(MessagePosted, where=lambda p: p.message.room == ack.room)
        assert wire.frames.index(joined) < wire.frames.index(posted)  # room first
    await bob.send(Send(client_msg_id="d2", body="hi!", dm="@alice"))
    reply = await bob.find(Ack, where=lambda a: a.client_msg_id == "d2")
    await alice.send(Send(client_msg_id="d3", body="again", dm="bob"))
    again = await alice.find(Ack, where=lambda a: a.client_msg_id == "d3")
    assert reply.room == again.room == ack.room and (reply.seq, again.seq) == (2, 3)
    await round_trip(alice)
    await round_trip(bob)
    assert len(alice.seen(RoomJoined)) == len(bob.seen(RoomJoined)) == 1
    rooms = await srv.services.db.fetch_all("SELECT id FROM rooms WHERE kind = 'dm'")
    assert [row[0] for row in rooms] == [ack.room]
    # A DM keeps its two people.
    assert await refused(alice, Leave(room=ack.room, rid="l")) == ErrorCode.FORBIDDEN
    await srv.user("carol")
    assert await refused(alice, Invite(room=ack.room, user="carol", rid="i")) == (
        ErrorCode.FORBIDDEN
    )
    await alice.send(Send(client_msg_id="self", body="me", dm="alice", rid="s"))
    assert (await error_for(alice, rid="s")).code == ErrorCode.FORBIDDEN


async def answer(wire: Wire) -> Ack | Error:
    """The ack or the error answering the request ``x``."""
    frame = await wire.find(object, where=lambda f: isinstance(f, Ack | Error) and f.rid == "x")
    assert isinstance(frame, Ack | Error)
    return frame


async def test_first_dms_sent_both_ways_at_once_share_one_room(srv: Running) -> None:
    names = [f"u{n}" for n in range(8)]
    wires = await users(srv, *names)
    pairs = [(wires[n], wires[n + 1], names[n], names[n + 1]) for n in range(0, 8, 2)]

    async def both_ways(one: Wire, two: Wire, one_name: str, two_name: str) -> None:
        await asyncio.gather(
            one.send(Send(client_msg_id="x", body="hi", dm=two_name, rid="x")),
            two.send(Send(client_msg_id="x", body="hi", dm=one_name, rid="x")),
        )

    await asyncio.gather(*(both_ways(*pair) for pair in pairs))
    for one, two, _, _ in pairs:
        await check_one_dm(one, two)


async def check_one_dm(one: Wire, two: Wire) -> None:
    first, second = await answer(one), await answer(two)
    assert isinstance(first, Ack) and isinstance(second, Ack), (first, second)
    assert first.room == second.room and {first.seq, second.seq} == {1, 2}
    for wire in (one, two):
        await wire.find(
            MessagePosted, where=lambda p: (p.message.room, p.message.seq) == (first.room, 2)
        )
        joined = [j for j in wire.seen(RoomJoined) if j.room.id == first.room]
        assert len(joined) == 1
        posted = [f for f in wire.frames if isinstance(f, MessagePosted)]
        assert wire.frames.index(joined[0]) < wire.frames.index(posted[0])


async def test_history_pages(start_server: StartServer) -> None:
    srv = await start_server(history_page=20, **FAST)
    (alice,) = await users(srv, "alice")
    general = room_id(alice)
    await post_many(alice, general, 45, "h")

    async def page(**fields: object) -> HistoryPage:
        rid = next_rid()
        await alice.send(History(room=general, rid=rid, **fields))  # type: ignore[arg-type]
        return await alice.find(HistoryPage, where=lambda p: p.rid == rid)

    newest = await page(limit=10)
    assert [m.seq for m in newest.messages] == list(range(36, 46)) and newest.more
    older = await page(before=36, limit=10)
    assert [m.seq for m in older.messages] == list(range(26, 36)) and older.more
    oldest = await page(before=6, limit=10)
    assert [m.seq for m in oldest.messages] == [1, 2, 3, 4, 5] and not oldest.more
    newer = await page(after=30, limit=10)
    assert [m.seq for m in newer.messages] == list(range(31, 41)) and newer.more
    last = await page(after=40, limit=10)
    assert [m.seq for m in last.messages] == list(range(41, 46)) and not last.more
    exact = await page(after=35, limit=10)
    assert [m.seq for m in exact.messages] == list(range(36, 46)) and not exact.more
    capped = await page(limit=200)  # the server's page size caps the limit
    assert [m.seq for m in capped.messages] == list(range(26, 46)) and capped.more
    assert capped.messages[0].body == "h message 25" and capped.messages[0].author == "alice"
    none = await page(after=45)
    assert none.messages == [] and not none.more


async def test_typing_is_relayed_once_per_interval_and_not_to_the_sender(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    general = room_id(alice)
    for _ in range(5):
        await alice.send(Typing(room=general))
    # Frames are handled in order: once bob has the message, he has every typing
    # notice that was going to be relayed before it.
    ack = await post(alice, general, "typed")
    for wire in (bob, carol):
        await wire.find(MessagePosted, where=lambda p: p.message.seq == ack.seq)
        typing = wire.seen(UserTyping)
        assert len(typing) == 1
        assert (typing[0].room, typing[0].user, typing[0].expires_in) == (general, "alice", 6.0)
    assert alice.seen(UserTyping) == []
    # Typing in a room one is not in is dropped silently.
    await alice.send(Typing(room=9999))
    await round_trip(alice)
    assert alice.seen(Error) == []


async def test_presence_reaches_co_members(srv: Running) -> None:
    alice, bob = await users(srv, "alice", "bob")
    assert alice.welcome is not None
    online = await alice.find(PresenceChanged, where=lambda p: p.user == "bob")
    assert online.status == "online"
    await ok(bob, SetPresence(status="away", text="  lunch \n break ", rid="p"))
    away = await alice.find(PresenceChanged, where=lambda p: p.status == "away")
    assert (away.user, away.text) == ("bob", "lunch break")
    await alice.send(Members(room=room_id(alice), rid="m"))
    members = await alice.find(MemberList, where=lambda m: m.rid == "m")
    assert ("bob", "away", "lunch break") in [(m.user, m.status, m.text) for m in members.members]

    # A second socket does not announce bob again; closing only the last one does.
    second = await srv.connect("bob")
    await second.close()
    await bob.close()
    offline = await alice.find(PresenceChanged, where=lambda p: p.status == "offline")
    assert offline.user == "bob"
    assert [p.status for p in alice.seen(PresenceChanged) if p.user == "bob"] == [
        "online",
        "away",
        "offline",
    ]
    # Someone who shares no room with bob hears nothing of him.
    await srv.user("loner")
    loner = await srv.connect("loner")
    assert loner.welcome is not None
    assert "bob" not in [p.user for p in loner.welcome.presence]


async def test_read_markers_move_forward_only(srv: Running) -> None:
    alice, bob = await users(srv, "alice", "bob")
    general = room_id(alice)
    for n in range(5):
        await post(alice, general, f"m{n}")

    await ok(bob, MarkRead(room=general, seq=3, rid="r1"))
    moved = await bob.find(ReadMarkerMoved)
    assert (moved.room, moved.user, moved.seq) == (general, "bob", 3)
    await ok(bob, MarkRead(room=general, seq=2, rid="r2"))  # backwards: no-op
    await ok(bob, MarkRead(room=general, seq=99, rid="r3"))  # clamped to the latest
    await round_trip(bob)
    assert [m.seq for m in bob.seen(ReadMarkerMoved)] == [3, 5]
    row = await srv.services.db.fetch_one(
        "SELECT last_read_seq FROM members m JOIN users u ON u.id = m.user_id "
        "WHERE u.name = 'bob' AND m.room_id = ?",
        (general,),
    )
    assert row is not None and row[0] == 5
    # In a channel the reader's own sessions hear of it, nobody else.
    await round_trip(alice)
    assert alice.seen(ReadMarkerMoved) == []
    assert await refused(bob, MarkRead(room=9999, seq=1, rid="r4")) == ErrorCode.ROOM_NOT_FOUND


async def test_in_a_dm_the_other_member_sees_the_read_marker(srv: Running) -> None:
    alice, bob = await users(srv, "alice", "bob")
    await alice.send(Send(client_msg_id="d", body="read me", dm="bob"))
    ack = await alice.find(Ack)
    await bob.find(MessagePosted, where=lambda p: p.message.room == ack.room)
    await ok(bob, MarkRead(room=ack.room, seq=ack.seq, rid="r"))
    receipt = await alice.find(ReadMarkerMoved)
    assert (receipt.room, receipt.user, receipt.seq) == (ack.room, "bob", 1)


async def test_the_welcome_counts_unread_and_mentions(srv: Running) -> None:
    await srv.user("alice")
    await srv.user("bob")  # created, not yet connected
    alice = await srv.connect("alice")
    general = room_id(alice)
    await post(alice, general, "hello everyone")
    await post(alice, general, "@bob, have a look")
    await post(alice, general, "and @nobody or email@bob.example")
    await post(alice, general, "@bob again")

    bob = await srv.connect("bob")
    assert bob.welcome is not None
    info = next(r for r in bob.welcome.rooms if r.id == general)
    assert (info.latest_seq, info.last_read_seq, info.unread, info.mentions) == (4, 0, 4, 2)
    assert alice.welcome is not None
    mine = next(r for r in alice.welcome.rooms if r.id == general)
    assert mine.unread == 0  # at login, before anything was posted

    await ok(bob, MarkRead(room=general, seq=2, rid="r"))
    await bob.close()
    bob = await srv.connect("bob")
    assert bob.welcome is not None
    info = next(r for r in bob.welcome.rooms if r.id == general)
    assert (info.last_read_seq, info.unread, info.mentions) == (2, 2, 1)
    # One's own messages are never unread, and posting reads up to one's message.
    ack = await post(bob, general, "caught up")
    alice2 = await srv.connect("alice")
    assert alice2.welcome is not None
    info = next(r for r in alice2.welcome.rooms if r.id == general)
    assert (info.last_read_seq, info.unread) == (4, 1) and ack.seq == 5


async def test_a_group_made_with_members_announces_itself_whole(srv: Running) -> None:
    """Every member's room_joined carries the full count, and comes before any
    message of the room."""
    for name in ("alice", "bob", "carol"):
        await srv.user(name)
    alice, bob = await srv.connect("alice"), await srv.connect("bob")
    await alice.send(
        CreateRoom(name="trio", kind="group", members=["bob", "carol"], rid=next_rid())
    )
    mine = await alice.expect(RoomJoined, lambda f: f.room.name == "trio")
    theirs = await bob.expect(RoomJoined, lambda f: f.room.name == "trio")
    assert mine.room.member_count == theirs.room.member_count == 3
    await post(alice, mine.room.id, "welcome, both")
    posted = await bob.expect(MessagePosted, lambda f: f.message.room == mine.room.id)
    assert bob.frames.index(theirs) < bob.frames.index(posted)
