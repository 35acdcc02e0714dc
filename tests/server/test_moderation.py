"""Moderation on a real server: roles, kick, ban, mute, slow mode, lock, deletes by
moderators, the audit rows, and the state surviving a restart."""

from __future__ import annotations

import time

import pytest

from shared.errors import ErrorCode, ProtocolError
from shared.frames import (
    CreateRoom,
    Error,
    Invite,
    Join,
    Leave,
    MemberLeft,
    MemberList,
    Members,
    MessagePosted,
    Ok,
    RoomJoined,
    RoomLeft,
    RoomUpdated,
    Send,
)
from shared.frames_messages import Delete, Edit, React
from shared.frames_moderation import (
    Ban,
    Kick,
    LockRoom,
    Mute,
    RoomModerated,
    SetRole,
    SetSlowMode,
    Unban,
    Unmute,
)
from tchat_server.services.permissions import Permissions
from tests.conftest import Running
from tests.server.util import StartServer, error_for, post, room_id
from tests.wire import Wire, next_rid


async def users(srv: Running, *names: str) -> list[Wire]:
    for name in names:
        await srv.user(name)
    return [await srv.connect(name) for name in names]


async def ok(wire: Wire, frame: object) -> None:
    """Send a command carrying ``rid`` and wait for its Ok (failing on an error)."""
    rid = frame.rid  # type: ignore[attr-defined]
    await wire.send(frame)  # type: ignore[arg-type]
    answer = await wire.find(Ok | Error, where=lambda f: f.rid == rid)  # type: ignore[arg-type]
    assert isinstance(answer, Ok), answer


async def refused(wire: Wire, frame: object) -> Error:
    rid = frame.rid  # type: ignore[attr-defined]
    await wire.send(frame)  # type: ignore[arg-type]
    return await error_for(wire, rid=rid)


async def code(wire: Wire, frame: object) -> str:
    """The error code a refused command got."""
    return (await refused(wire, frame)).code


async def send_error(wire: Wire, room: int, body: str) -> Error:
    cid = next_rid()
    await wire.send(Send(client_msg_id=cid, body=body, room=room))
    return await error_for(wire, cid=cid)


async def den(owner: Wire, *others: Wire, name: str = "den") -> int:
    """A channel made by ``owner`` that ``others`` join; its id."""
    await ok(owner, CreateRoom(name=name, rid=next_rid()))
    room = (await owner.find(RoomJoined, where=lambda j: j.room.name == name)).room.id
    for wire in others:
        await ok(wire, Join(name=name, rid=next_rid()))
        await wire.find(RoomJoined, where=lambda j: j.room.id == room)
    return room


async def rows(srv: Running, sql: str, *params: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await srv.services.db.fetch_all(sql, params)]


async def test_a_member_may_not_moderate_and_nothing_changes(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    room = await den(alice, bob, carol)
    assert (await alice.find(RoomJoined, where=lambda j: j.room.id == room)).room.role == "owner"

    attempts = [
        Kick(room=room, user="bob", rid=next_rid()),
        Ban(room=room, user="bob", duration=60, rid=next_rid()),
        Unban(room=room, user="bob", rid=next_rid()),
        Mute(room=room, user="bob", rid=next_rid()),
        Unmute(room=room, user="bob", rid=next_rid()),
        SetRole(room=room, user="bob", role="moderator", rid=next_rid()),
        SetRole(room=room, user="carol", role="owner", rid=next_rid()),
        SetSlowMode(room=room, seconds=30, rid=next_rid()),
        LockRoom(room=room, rid=next_rid()),
        Kick(room=room, user="alice", rid=next_rid()),
    ]
    for frame in attempts:
        assert await code(carol, frame) == ErrorCode.FORBIDDEN, frame

    # Nothing changed: memberships, roles, mutes, room settings, bans, audit log.
    members = await rows(
        srv,
        "SELECT u.name, m.role, m.muted_until FROM members m JOIN users u "
        "ON u.id = m.user_id WHERE m.room_id = ? ORDER BY u.name",
        room,
    )
    assert members == [("alice", "owner", None), ("bob", "member", None), ("carol", "member", None)]
    assert await rows(srv, "SELECT slow_mode, locked FROM rooms WHERE id = ?", room) == [(0, 0)]
    assert await rows(srv, "SELECT count(*) FROM bans") == [(0,)]
    assert await rows(srv, "SELECT count(*) FROM audit_log") == [(0,)]
    assert not carol.seen(RoomModerated) and not bob.seen(RoomLeft)
    await post(carol, room, "still here, still posting")  # and nothing holds carol back

    # Refusals that name the problem: unknown user, a non-member, a DM, a group not seen.
    assert (
        await code(alice, Kick(room=room, user="nobody", rid=next_rid()))
        == ErrorCode.USER_NOT_FOUND
    )
    await srv.user("dave")
    assert await code(alice, Mute(room=room, user="dave", rid=next_rid())) == ErrorCode.NOT_MEMBER
    await alice.send(Send(client_msg_id="dm1", body="hi", dm="bob"))
    dm = (await alice.find(RoomJoined, where=lambda j: j.room.kind == "dm")).room.id
    assert await code(alice, Kick(room=dm, user="bob", rid=next_rid())) == ErrorCode.FORBIDDEN
    await ok(alice, CreateRoom(name="secret", kind="group", rid=next_rid()))
    group = (await alice.find(RoomJoined, where=lambda j: j.room.name == "secret")).room.id
    assert await code(carol, LockRoom(room=group, rid=next_rid())) == ErrorCode.ROOM_NOT_FOUND
    # Moderators may not remove anyone from #general.
    general = room_id(alice)
    assert await code(alice, Kick(room=general, user="bob", rid=next_rid())) == ErrorCode.FORBIDDEN
    assert await rows(srv, "SELECT count(*) FROM audit_log") == [(0,)]


async def test_owner_makes_a_moderator_who_kicks(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    room = await den(alice, bob, carol)

    await ok(alice, SetRole(room=room, user="bob", role="moderator", rid=next_rid()))
    updated = await bob.find(RoomUpdated, where=lambda u: u.room.id == room)
    assert updated.room.role == "moderator"
    event = await carol.find(RoomModerated, where=lambda m: m.action == "role")
    assert (event.by, event.user, event.role) == ("alice", "bob", "moderator")

    # A moderator cannot act on the owner, nor set roles.
    assert await code(bob, Kick(room=room, user="alice", rid=next_rid())) == ErrorCode.FORBIDDEN
    assert (
        await code(bob, SetRole(room=room, user="carol", role="moderator", rid=next_rid()))
        == ErrorCode.FORBIDDEN
    )

    await ok(bob, Kick(room=room, user="carol", reason="spam", rid=next_rid()))
    told = await carol.find(RoomModerated, where=lambda m: m.action == "kick")
    assert (told.room, told.by, told.user, told.reason) == (room, "bob", "carol", "spam")
    await carol.find(RoomLeft, where=lambda r: r.room == room)
    left = await alice.find(MemberLeft, where=lambda m: m.room == room)
    assert (left.user, left.how, left.by) == ("carol", "kicked", "bob")
    await alice.find(RoomModerated, where=lambda m: m.action == "kick")
    assert (await send_error(carol, room, "let me back")).code == ErrorCode.NOT_MEMBER
    carol_in = "SELECT 1 FROM members m JOIN users u ON u.id = m.user_id WHERE m.room_id = ? "
    assert await rows(srv, carol_in + "AND u.name = 'carol'", room) == []

    # The member list shows the roles; a kicked member may come back.
    await alice.send(Members(room=room, rid="m"))
    members = await alice.find(MemberList, where=lambda m: m.rid == "m")
    assert {m.user: m.role for m in members.members} == {"alice": "owner", "bob": "moderator"}
    await ok(carol, Join(name="den", rid=next_rid()))

    audit = await rows(
        srv,
        "SELECT a.action, u.name, t.name, a.detail FROM audit_log a JOIN users u "
        "ON u.id = a.actor_id JOIN users t ON t.id = a.target_id ORDER BY a.id",
    )
    assert audit == [
        ("role", "alice", "bob", '{"role": "moderator"}'),
        ("kick", "bob", "carol", '{"reason": "spam"}'),
    ]


async def test_timed_ban_keeps_out_until_it_ends(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    room = await den(alice, bob, carol)
    now = [time.time()]
    srv.services.permissions.clock = lambda: now[0]

    await ok(alice, Ban(room=room, user="carol", duration=60, reason="cool off", rid=next_rid()))
    told = await carol.find(RoomModerated, where=lambda m: m.action == "ban")
    assert told.until is not None and abs(told.until - (now[0] + 60)) < 1
    await carol.find(RoomLeft, where=lambda r: r.room == room)
    left = await bob.find(MemberLeft, where=lambda m: m.room == room)
    assert (left.how, left.by) == ("banned", "alice")

    error = await refused(carol, Join(name="den", rid=next_rid()))
    assert error.code == ErrorCode.BANNED and error.retry_after is not None
    assert 59 <= error.retry_after <= 60
    assert await code(bob, Invite(room=room, user="carol", rid=next_rid())) == ErrorCode.BANNED
    assert await rows(srv, "SELECT count(*) FROM members WHERE room_id = ?", room) == [(2,)]

    now[0] += 61  # the ban has ended
    await ok(carol, Join(name="den", rid=next_rid()))
    await carol.find(RoomJoined, where=lambda j: j.room.id == room)

    # A ban without end, and unban; a ban may name someone not in the room.
    await ok(alice, Ban(room=room, user="carol", rid=next_rid()))
    error = await refused(carol, Join(name="den", rid=next_rid()))
    assert (error.code, error.retry_after) == (ErrorCode.BANNED, None)
    await srv.user("dave")
    await ok(alice, Ban(room=room, user="dave", rid=next_rid()))
    assert len(await rows(srv, "SELECT * FROM bans WHERE room_id = ?", room)) == 2
    await ok(alice, Unban(room=room, user="carol", rid=next_rid()))
    await alice.find(RoomModerated, where=lambda m: m.action == "unban")
    await ok(carol, Join(name="den", rid=next_rid()))


async def test_mute_blocks_send_edit_and_react(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    room = await den(alice, bob, carol)
    mine = await post(carol, room, "before the mute")

    await ok(alice, Mute(room=room, user="carol", duration=120, reason="calm", rid=next_rid()))
    view = await carol.find(RoomUpdated, where=lambda u: u.room.id == room)
    assert view.room.muted_until is not None and view.room.muted_until > time.time() + 100
    error = await send_error(carol, room, "can I talk?")
    assert error.code == ErrorCode.MUTED and error.retry_after is not None
    assert 110 < error.retry_after <= 120
    assert (
        await code(carol, Edit(room=room, seq=mine.seq, body="x", rid=next_rid()))
        == ErrorCode.MUTED
    )
    react = React(room=room, seq=mine.seq, emoji="👍", rid=next_rid())
    assert await code(carol, react) == ErrorCode.MUTED
    await alice.send(Members(room=room, rid="m"))
    members = await alice.find(MemberList, where=lambda m: m.rid == "m")
    assert next(m for m in members.members if m.user == "carol").muted_until is not None
    assert await rows(srv, "SELECT count(*) FROM messages WHERE room_id = ?", room) == [(1,)]
    await post(bob, room, "bob is not muted")

    # An admin of the server may not be muted by a room owner.
    await srv.user("root", admin=True)
    root = await srv.connect("root")
    assert root.welcome is not None and root.welcome.user.role == "owner"
    await ok(root, Join(name="den", rid=next_rid()))
    assert await code(alice, Mute(room=room, user="root", rid=next_rid())) == ErrorCode.FORBIDDEN

    # Leaving and joining again does not lift a mute: it is written back.
    await ok(carol, Leave(room=room, rid=next_rid()))
    await ok(carol, Join(name="den", rid=next_rid()))
    back = await carol.find(
        RoomJoined, where=lambda j: j.room.id == room and bool(j.room.muted_until)
    )
    assert back.room.muted_until == view.room.muted_until
    assert (await send_error(carol, room, "a fresh start?")).code == ErrorCode.MUTED

    await ok(alice, Unmute(room=room, user="carol", rid=next_rid()))
    await carol.find(RoomUpdated, where=lambda u: u.room.id == room and u.room.muted_until is None)
    assert await rows(srv, "SELECT count(*) FROM members WHERE muted_until IS NOT NULL") == [(0,)]
    await post(carol, room, "thanks")


async def test_slow_mode_and_lock_spare_moderators(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    room = await den(alice, bob, carol)
    await ok(alice, SetRole(room=room, user="bob", role="moderator", rid=next_rid()))

    await ok(alice, SetSlowMode(room=room, seconds=30, rid=next_rid()))
    assert (await carol.find(RoomModerated, where=lambda m: m.action == "slow_mode")).seconds == 30
    await post(carol, room, "one")
    error = await send_error(carol, room, "two")
    assert error.code == ErrorCode.SLOW_MODE and error.retry_after is not None
    assert 25 < error.retry_after <= 30  # ~30 s, less the time since "one"
    await post(bob, room, "moderators are exempt")
    await post(bob, room, "twice")
    await ok(alice, SetSlowMode(room=room, seconds=0, rid=next_rid()))
    await post(carol, room, "slow mode is off")

    await ok(alice, LockRoom(room=room, rid=next_rid()))
    await carol.find(RoomModerated, where=lambda m: m.action == "lock")
    assert (await send_error(carol, room, "locked?")).code == ErrorCode.ROOM_LOCKED
    await post(bob, room, "a moderator posts in a locked room")
    assert await rows(srv, "SELECT slow_mode, locked FROM rooms WHERE id = ?", room) == [(0, 1)]
    await ok(alice, LockRoom(room=room, locked=False, rid=next_rid()))
    await carol.find(RoomModerated, where=lambda m: m.action == "unlock")
    await post(carol, room, "open again")


async def test_moderator_deletes_someone_elses_message(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    room = await den(alice, bob, carol)
    msg = await post(carol, room, "something regrettable")
    # A plain member may not delete someone else's message.
    assert await code(bob, Delete(room=room, seq=msg.seq, rid=next_rid())) == ErrorCode.FORBIDDEN
    await ok(alice, SetRole(room=room, user="bob", role="moderator", rid=next_rid()))
    await ok(bob, Delete(room=room, seq=msg.seq, rid=next_rid()))
    event = await carol.find(RoomModerated, where=lambda m: m.action == "delete")
    assert (event.by, event.user, event.seq) == ("bob", "carol", msg.seq)
    deleted = "SELECT deleted FROM messages WHERE room_id = ? AND seq = ?"
    assert await rows(srv, deleted, room, msg.seq) == [(1,)]
    assert await rows(srv, "SELECT action, detail FROM audit_log WHERE action = 'delete'") == [
        ("delete", f'{{"seq": {msg.seq}}}')
    ]


async def test_server_admin_moderates_any_room(srv: Running) -> None:
    alice, bob = await users(srv, "alice", "bob")
    room = await den(alice, bob)
    await srv.user("root", admin=True)
    await srv.user("ops", admin=True)
    root = await srv.connect("root")
    ops = await srv.connect("ops")
    assert ops.welcome is not None and ops.welcome.user.role == "admin"
    # Not a member of #den, and still may act there; the room owner is below an admin.
    await ok(root, Mute(room=room, user="alice", rid=next_rid()))
    assert (await send_error(alice, room, "muted owner")).code == ErrorCode.MUTED
    # #general: an admin may remove people; an admin may not act on the owner.
    await ok(ops, Kick(room=room_id(bob), user="bob", rid=next_rid()))
    await bob.find(RoomLeft, where=lambda r: r.room == room_id(alice))
    assert (
        await code(ops, Kick(room=room_id(alice), user="root", rid=next_rid()))
        == ErrorCode.FORBIDDEN
    )


async def test_roles_bans_mutes_survive_a_restart(start_server: StartServer) -> None:
    srv = await start_server()
    alice, bob, carol, dave = await users(srv, "alice", "bob", "carol", "dave")
    room = await den(alice, bob, carol, dave)
    await ok(alice, SetRole(room=room, user="bob", role="moderator", rid=next_rid()))
    await ok(alice, Ban(room=room, user="carol", rid=next_rid()))
    await ok(alice, Mute(room=room, user="dave", rid=next_rid()))
    await ok(alice, SetSlowMode(room=room, seconds=600, rid=next_rid()))
    await srv.stop()

    srv = await start_server()
    alice, bob, carol, dave = [await srv.connect(n) for n in ("alice", "bob", "carol", "dave")]
    assert bob.welcome is not None
    info = next(r for r in bob.welcome.rooms if r.id == room)
    assert info.role == "moderator"
    assert await code(carol, Join(name="den", rid=next_rid())) == ErrorCode.BANNED
    assert (await send_error(dave, room, "still muted?")).code == ErrorCode.MUTED
    await post(alice, room, "slow mode")  # the owner is exempt
    await post(bob, room, "one")
    await post(bob, room, "two: a moderator is exempt too")
    await ok(bob, Unmute(room=room, user="dave", rid=next_rid()))
    await post(dave, room, "free")
    assert (await send_error(dave, room, "again")).code == ErrorCode.SLOW_MODE
    posted = [f.message.body for f in alice.seen(MessagePosted)]
    assert "free" in posted


def last_joined(wire: Wire, room: int) -> RoomJoined:
    """The newest room_joined of a room (it comes before the join's ok)."""
    return [j for j in wire.seen(RoomJoined) if j.room.id == room][-1]


async def test_roles_end_with_membership_and_actions_apply_in_order(srv: Running) -> None:
    alice, bob, carol = await users(srv, "alice", "bob", "carol")
    room = await den(alice, bob, carol)
    await ok(alice, SetRole(room=room, user="bob", role="moderator", rid=next_rid()))
    # A moderator who leaves comes back as a member, and may no longer moderate.
    await ok(bob, Leave(room=room, rid=next_rid()))
    await ok(bob, Join(name="den", rid=next_rid()))
    assert last_joined(bob, room).room.role == "member"
    assert await code(bob, Mute(room=room, user="carol", rid=next_rid())) == ErrorCode.FORBIDDEN

    # Commands sent at once apply in order: memory and database agree afterwards.
    frames = [
        Mute(room=room, user="carol", rid=next_rid()),
        Unmute(room=room, user="carol", rid=next_rid()),
        Mute(room=room, user="carol", duration=300, rid=next_rid()),
        Unmute(room=room, user="carol", rid=next_rid()),
        LockRoom(room=room, rid=next_rid()),
        LockRoom(room=room, locked=False, rid=next_rid()),
    ]
    for frame in frames:
        await alice.send(frame)
    rids = {getattr(frame, "rid", None) for frame in frames}
    for rid in rids:
        await alice.find(Ok, where=lambda o, rid=rid: o.rid == rid)  # type: ignore[misc]
    await post(carol, room, "neither muted nor locked")
    assert await rows(srv, "SELECT count(*) FROM members WHERE muted_until IS NOT NULL") == [(0,)]
    assert await rows(srv, "SELECT locked FROM rooms WHERE id = ?", room) == [(0,)]
    actions = await rows(srv, "SELECT action FROM audit_log ORDER BY id")
    assert [a for (a,) in actions] == [
        "role", "mute", "unmute", "mute", "unmute", "lock", "unlock"
    ]  # fmt: skip

    # A server admin is never kept out by a ban (and so can always undo one), and
    # outranks a room's owner.
    await ok(alice, Ban(room=room, user="carol", rid=next_rid()))
    assert await code(carol, Join(name="den", rid=next_rid())) == ErrorCode.BANNED
    user = await srv.services.users.get_by_name("carol")
    assert await srv.services.users.set_role(user.id, "admin")  # as the admin CLI does
    carol = await srv.connect("carol")  # the role counts from the next connection
    await ok(carol, Join(name="den", rid=next_rid()))
    await ok(carol, SetRole(room=room, user="alice", role="member", rid=next_rid()))
    assert (await alice.find(RoomUpdated, where=lambda u: u.room.role == "member")).room.id == room


def test_the_rules_without_a_server() -> None:
    """Permissions is a plain class: ranks, expiry and slow mode on a fake clock."""
    now = [1000.0]
    rules = Permissions(clock=lambda: now[0])
    room, dm, owner, mod, member, admin = 1, 2, 10, 11, 12, 13
    rules.room_created(room, owner, "owner")
    rules.set_room_role(room, mod, "moderator", "mod")
    rules.set_server_role(admin, "admin", "admin")
    assert rules.can_moderate(room, mod) and not rules.can_moderate(room, member)
    assert rules.can_moderate(room, mod, over=member) and not rules.can_moderate(
        room, mod, over=owner
    )
    assert not rules.can_moderate(dm, admin)  # a DM has no moderation
    assert rules.can_moderate(room, admin, over=owner)

    rules.set_slow_mode(room, 30)
    rules.check_post(room, member, send=True)
    rules.posted(room, member, now[0])
    now[0] += 10
    rules.check_post(room, member)  # an edit or a reaction is not slowed
    with pytest.raises(ProtocolError) as slowed:
        rules.check_post(room, member, send=True)
    assert (slowed.value.code, slowed.value.retry_after) == (ErrorCode.SLOW_MODE, 20)
    rules.posted(room, mod, now[0])
    rules.check_post(room, mod, send=True)  # moderators are exempt
    now[0] += 20
    rules.check_post(room, member, send=True)

    rules.set_mute(room, member, now[0] + 5, "member")
    assert rules.member_flags(room)["member"] == ("member", now[0] + 5)
    with pytest.raises(ProtocolError) as muted:
        rules.check_post(room, member)
    assert (muted.value.code, muted.value.retry_after) == (ErrorCode.MUTED, 5)
    now[0] += 5
    rules.check_post(room, member)  # the mute ended
    assert rules.muted_until(room, member) is None

    rules.set_ban(room, member, True, now[0] + 1)
    assert rules.ban_of(room, member) == (True, now[0] + 1)
    now[0] += 1
    rules.check_join(room, member)  # the ban ended, and is forgotten
    assert rules.ban_of(room, member) == (False, None)

    rules.member_removed(room, mod)
    assert rules.room_role(room, mod) == "member" and not rules.can_moderate(room, mod)
