"""Moderation's edges on a real server: deletes respect rank, nobody climbs above
their own rank, a kicked member's every session goes quiet at once, a mute
outlives leaving across a restart, and a ban that commits while a join is under
way keeps the user out."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Awaitable, Callable

from shared.errors import ErrorCode
from shared.frames import Error, Join, Leave, MessagePosted, RoomJoined, RoomLeft
from shared.frames_messages import Delete
from shared.frames_moderation import Ban, Kick, Mute, RoomModerated, SetRole, Unban, Unmute
from tchat_server.services.moderation import Actor
from tests.conftest import Running
from tests.server.test_moderation import code, den, ok, rows, send_error, users
from tests.server.util import StartServer, error_for, post, round_trip
from tests.wire import next_rid


async def test_a_moderator_deletes_only_messages_of_lower_ranks(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    await srv.user("root", admin=True)
    root = await srv.connect("root")
    room = await den(alice, bob, carol, root)
    await ok(alice, SetRole(room=room, user="bob", role="moderator", rid=next_rid()))
    by_owner = await post(alice, room, "the owner's")
    by_admin = await post(root, room, "a server admin's")
    by_member = await post(carol, room, "a member's")
    by_moderator = await post(bob, room, "the moderator's")
    own = await post(bob, room, "the moderator's own")

    for higher in (by_owner, by_admin):
        refused = await code(bob, Delete(room=room, seq=higher.seq, rid=next_rid()))
        assert refused == ErrorCode.FORBIDDEN
    deleted = "SELECT seq FROM messages WHERE room_id = ? AND deleted = 1 ORDER BY seq"
    assert await rows(srv, deleted, room) == []
    assert await rows(srv, "SELECT count(*) FROM audit_log WHERE action = 'delete'") == [(0,)]

    await ok(bob, Delete(room=room, seq=by_member.seq, rid=next_rid()))
    await ok(alice, Delete(room=room, seq=by_moderator.seq, rid=next_rid()))
    await ok(bob, Delete(room=room, seq=own.seq, rid=next_rid()))  # one's own, always
    await ok(root, Delete(room=room, seq=by_owner.seq, rid=next_rid()))
    assert await rows(srv, deleted, room) == [
        (by_owner.seq,),
        (by_member.seq,),
        (by_moderator.seq,),
        (own.seq,),
    ]
    assert await rows(srv, "SELECT count(*) FROM audit_log WHERE action = 'delete'") == [(3,)]


async def test_nobody_climbs_above_their_own_rank(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    await srv.user("root", admin=True)
    root = await srv.connect("root")
    room = await den(alice, bob, carol, root)
    await ok(alice, SetRole(room=room, user="bob", role="moderator", rid=next_rid()))
    attempts = [
        (bob, SetRole(room=room, user="bob", role="owner", rid=next_rid())),
        (bob, SetRole(room=room, user="carol", role="moderator", rid=next_rid())),
        (bob, SetRole(room=room, user="alice", role="member", rid=next_rid())),
        (alice, SetRole(room=room, user="alice", role="moderator", rid=next_rid())),
        (alice, SetRole(room=room, user="root", role="member", rid=next_rid())),
        (alice, Mute(room=room, user="root", rid=next_rid())),
        (bob, Kick(room=room, user="alice", rid=next_rid())),
    ]
    for wire, frame in attempts:
        assert await code(wire, frame) == ErrorCode.FORBIDDEN, frame
    roles = await rows(
        srv,
        "SELECT u.name, m.role, m.muted_until FROM members m JOIN users u ON u.id = m.user_id "
        "WHERE m.room_id = ? ORDER BY u.name",
        room,
    )
    assert roles == [
        ("alice", "owner", None),
        ("bob", "moderator", None),
        ("carol", "member", None),
        ("root", "member", None),
    ]
    assert await rows(srv, "SELECT action FROM audit_log") == [("role",)]


async def test_a_kicked_members_sessions_hear_nothing_more(srv: Running) -> None:
    alice, bob = await users(srv, "alice", "bob")
    room = await den(alice, bob)
    second = await srv.connect("bob")
    await ok(alice, Kick(room=room, user="bob", rid=next_rid()))
    for wire in (bob, second):
        await wire.find(RoomLeft, where=lambda r: r.room == room)
    await post(alice, room, "after the kick")
    for wire in (bob, second):
        await round_trip(wire)  # anything published before now would be in by now
        assert [m for m in wire.seen(MessagePosted) if m.message.room == room] == []
    assert not srv.services.hub.is_member(room, (await srv.services.users.get_by_name("bob")).id)


async def test_a_mute_of_someone_who_left_survives_a_restart(start_server: StartServer) -> None:
    srv = await start_server()
    alice, bob, carol, dave, erin = await users(srv, "alice", "bob", "carol", "dave", "erin")
    room = await den(alice, bob, carol, dave, erin)
    await ok(alice, Mute(room=room, user="bob", reason="until lifted", rid=next_rid()))
    await ok(alice, Mute(room=room, user="carol", rid=next_rid()))
    await ok(alice, Unmute(room=room, user="carol", rid=next_rid()))
    await ok(alice, Mute(room=room, user="dave", duration=3600, rid=next_rid()))
    await ok(alice, Mute(room=room, user="erin", duration=3600, rid=next_rid()))
    await ok(alice, Kick(room=room, user="erin", rid=next_rid()))
    for wire in (bob, carol, dave):
        await ok(wire, Leave(room=room, rid=next_rid()))
    await srv.stop()
    # erin's mute ran out while the server was down.
    with sqlite3.connect(srv.server.config.db_path) as conn:
        detail = json.dumps({"duration": 3600, "until": time.time() - 5})
        conn.execute(
            "UPDATE audit_log SET detail = ? WHERE action = 'mute' AND target_id = "
            "(SELECT id FROM users WHERE name = 'erin')",
            (detail,),
        )

    srv = await start_server()
    wires = {n: await srv.connect(n) for n in ("bob", "carol", "dave", "erin")}
    for wire in wires.values():
        await ok(wire, Join(name="den", rid=next_rid()))
        await wire.find(RoomJoined, where=lambda j: j.room.id == room)
    forever = await send_error(wires["bob"], room, "am I free?")
    assert forever.code == ErrorCode.MUTED and forever.retry_after is None
    timed = await send_error(wires["dave"], room, "and I?")
    assert timed.code == ErrorCode.MUTED and timed.retry_after and timed.retry_after > 3000
    await post(wires["carol"], room, "unmuted before leaving")
    await post(wires["erin"], room, "my mute ran out")
    muted = await rows(
        srv,
        "SELECT u.name FROM members m JOIN users u ON u.id = m.user_id "
        "WHERE m.room_id = ? AND m.muted_until IS NOT NULL ORDER BY u.name",
        room,
    )
    assert muted == [("bob",), ("dave",)]


async def test_a_ban_that_commits_during_a_join_keeps_the_user_out(srv: Running) -> None:
    """Both orders: the ban commits after the join's check but before its insert,
    and after its insert (it then deletes the new row)."""
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    room = await den(alice)
    services = srv.services
    owner = Actor((await services.users.get_by_name("alice")).id, "alice")

    def ban_first(name: str, step: Callable[..., Awaitable[object]]) -> Callable[..., object]:
        async def step_after_a_ban(*args: object) -> object:
            await services.moderation.ban(owner, room, name, None, "raced")
            return await step(*args)

        return step_after_a_ban

    add_member = services.room_store.add_member
    services.room_store.add_member = ban_first("bob", add_member)  # type: ignore[method-assign]
    try:
        assert await code(bob, Join(name="den", rid=next_rid())) == ErrorCode.BANNED
    finally:
        services.room_store.add_member = add_member  # type: ignore[method-assign]
    joined = services.permissions.joined
    services.permissions.joined = ban_first("carol", joined)  # type: ignore[method-assign]
    try:
        rid = next_rid()
        await carol.send(Join(name="den", rid=rid))
        refused: Error = await error_for(carol, rid=rid)
        assert refused.code == ErrorCode.BANNED
    finally:
        services.permissions.joined = joined  # type: ignore[method-assign]

    members = "SELECT u.name FROM members m JOIN users u ON u.id = m.user_id WHERE m.room_id = ?"
    assert await rows(srv, members, room) == [("alice",)]
    for name in ("bob", "carol"):
        user = await services.users.get_by_name(name)
        assert not services.hub.is_member(room, user.id)
    await post(alice, room, "banned people hear nothing")
    for wire in (bob, carol):
        await round_trip(wire)
        assert [m for m in wire.seen(MessagePosted) if m.message.room == room] == []
        assert [j for j in wire.seen(RoomJoined) if j.room.id == room] == []


async def test_unbanning_an_ended_ban_changes_nothing(srv: Running) -> None:
    alice, _ = await users(srv, "alice", "bob")
    room = await den(alice)
    now = [time.time()]
    srv.services.permissions.clock = lambda: now[0]
    await ok(alice, Ban(room=room, user="bob", duration=60, rid=next_rid()))
    now[0] += 61
    await ok(alice, Unban(room=room, user="bob", rid=next_rid()))
    assert await rows(srv, "SELECT action FROM audit_log") == [("ban",)]
    assert [m for m in alice.seen(RoomModerated) if m.action == "unban"] == []
