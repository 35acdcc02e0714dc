"""Moderation from the composer against a real server: refusals show the server's
reason and change nothing; what is done shows as a system line in the room, in the
header (locked, slow mode), the member list (roles, muted) and the composer hint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shared.frames import CreateRoom, Join, RoomJoined
from shared.frames_moderation import Kick, LockRoom, Mute, RoomModerated, SetRole, SetSlowMode
from tchat_client.core import Client, ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.tui.app import TchatApp
from tchat_client.tui.widgets.members import MemberList
from tchat_client.tui.widgets.status_lines import HintLine
from tests.conftest import PASSWORD, Running
from tests.server.util import FAST
from tests.tui.test_app_live import alice_app, main_screen, plain, until
from tests.tui.test_notify_catch_up_live import run_command, toasts
from tests.wire import Wire


async def channel(srv: Running, owner: str, other: str) -> tuple[Wire, Wire, int]:
    """``owner`` creates #ops and ``other`` joins it; their wires and the room id."""
    first = await srv.connect(owner)
    await first.send(CreateRoom(name="ops", rid="c"))
    ops = (await first.find(RoomJoined, where=lambda j: j.room.name == "ops")).room.id
    second = await srv.connect(other)
    await second.send(Join(name="ops", rid="j"))
    await second.find(RoomJoined, where=lambda j: j.room.name == "ops")
    return first, second, ops


async def members_of(srv: Running, room: int) -> list[str]:
    rows = await srv.services.db.fetch_all(
        "SELECT u.name FROM members m JOIN users u ON u.id = m.user_id WHERE m.room_id = ?"
        " ORDER BY u.name",
        (room,),
    )
    return [r[0] for r in rows]


def notices(app: TchatApp) -> list[str]:
    return [m.body for m in main_screen(app).transcript.messages if m.notice]


async def test_kick_as_a_member_shows_the_refusal_and_changes_nothing(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob, _, ops = await channel(srv, "bob", "alice")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        screen.open_room(ops)
        await run_command(screen, pilot, "/kick @bob being the owner")
        await until(pilot, lambda: any("Could not kick bob" in t for t in toasts(app)), "refusal")
        assert any("only" in t for t in toasts(app)), toasts(app)  # the server's reason
        await run_command(screen, pilot, "/ban @nobody 1h")
        await until(pilot, lambda: any("Could not ban nobody" in t for t in toasts(app)), "ban")
        await run_command(screen, pilot, "/slow 30s")
        await until(pilot, lambda: any("set slow mode" in t for t in toasts(app)), "slow refused")
        assert screen.room is not None and screen.room.slow_mode == 0
        assert notices(app) == []
    assert await members_of(srv, ops) == ["alice", "bob"]
    assert bob.seen(RoomModerated) == []


async def test_kick_as_owner_removes_the_room_from_bobs_client_and_shows_a_line(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    _, _, ops = await channel(srv, "alice", "bob")
    store = ProfileStore(tmp_path / "bob" / "config", tmp_path / "bob" / "data")
    bob = Client(await sign_in(store, srv.url, "bob", PASSWORD))
    await bob.start()
    try:
        assert ops in bob.state.rooms
        async with alice_app(srv, tmp_path) as (app, pilot):
            screen = main_screen(app)
            screen.open_room(ops)
            await run_command(screen, pilot, "/kick bob spam")
            await until(pilot, lambda: "alice kicked bob (spam)" in notices(app), "the line")
            await until(pilot, lambda: ops not in bob.state.rooms, "ops gone from bob's client")
            assert await members_of(srv, ops) == ["alice"]
            # The line stays when the room is opened again.
            screen.open_room(next(r for r in app.client.state.rooms if r != ops))  # type: ignore[union-attr]
            screen.open_room(ops)
            assert "alice kicked bob (spam)" in notices(app)
    finally:
        await bob.close()


async def test_owner_moderates_and_the_room_shows_it(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    _, bob, ops = await channel(srv, "alice", "bob")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        client = app.client
        assert client is not None
        screen.open_room(ops)
        await pilot.press("ctrl+b")
        header = screen.query_one("#room-header")
        await run_command(screen, pilot, "/slow 30s")
        await until(pilot, lambda: client.state.rooms[ops].slow_mode == 30, "slow mode")
        await until(pilot, lambda: "🐢 slow 30 s" in plain(header), "the header")
        await run_command(screen, pilot, "/lock")
        await until(pilot, lambda: "🔒 locked" in plain(header), "locked in the header")
        await run_command(screen, pilot, "/mute @bob 10m flooding")
        await run_command(screen, pilot, "/op bob")
        await until(pilot, lambda: len(notices(app)) == 4, "four lines")
        assert notices(app) == [
            "alice set slow mode: 30 s between messages",
            "alice locked the room: only moderators can post",
            "alice muted bob for 10 min (flooding)",
            "alice made bob a moderator",
        ]
        members = screen.query_one(MemberList)
        await until(pilot, lambda: "bob ☆" in plain(members), "bob's role in the list")
        assert "alice ★" in plain(members)
        await until(pilot, lambda: "muted" in plain(members), "bob shown muted")
        seen = [f.action for f in bob.seen(RoomModerated)]
        assert seen == ["slow_mode", "lock", "mute", "role"]
        await run_command(screen, pilot, "/unlock")
        await until(pilot, lambda: "🔒" not in plain(header), "unlocked")


async def test_slow_mode_holds_the_second_message_and_says_why(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob, _, ops = await channel(srv, "bob", "alice")
    await bob.send(SetSlowMode(room=ops, seconds=30, rid="s"))
    await bob.expect(RoomModerated)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        screen.open_room(ops)
        hint = screen.query_one(HintLine)
        assert "Slow mode: members may post once every 30 s" in hint.text
        assert "🐢 slow 30 s" in plain(screen.query_one("#room-header"))
        screen.send(ops, "first, allowed")
        await until(
            pilot,
            lambda: any(m.body == "first, allowed" and m.seq for m in screen.transcript.messages),
            "the first message stored",
        )
        screen.send(ops, "second, too soon")
        # Slow mode holds the message in the outbox until its turn, and says so.
        await until(pilot, lambda: "Waiting to send" in hint.text, "the waiting line")
        assert "slow" in hint.text.lower(), hint.text
    assert await bodies_by(srv, ops, "alice") == ["first, allowed"]


async def test_a_muted_member_sees_why_and_the_refusal(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob, _, ops = await channel(srv, "bob", "alice")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        screen.open_room(ops)
        hint = screen.query_one(HintLine)
        assert hint.text == ""
        await bob.send(Mute(room=ops, user="alice", reason="cool down", rid="m"))
        await until(pilot, lambda: "muted you here" in hint.text, "the muted hint")
        await until(pilot, lambda: any("muted you in #ops" in t for t in toasts(app)), "a toast")
        screen.send(ops, "while muted")
        await until(pilot, lambda: any(t.startswith("Not sent") for t in toasts(app)), "refusal")
        await run_command(screen, pilot, "/mute @bob")  # a member cannot: refused
        await until(pilot, lambda: any("Could not mute bob" in t for t in toasts(app)), "refused")
    assert await bodies_by(srv, ops, "alice") == []
    assert [f.action for f in bob.seen(RoomModerated)] == ["mute"]


async def bodies_by(srv: Running, room: int, author: str) -> list[str]:
    rows = await srv.services.db.fetch_all(
        "SELECT body FROM messages m JOIN users u ON u.id = m.author_id"
        " WHERE m.room_id = ? AND u.name = ? ORDER BY seq",
        (room, author),
    )
    return [r[0] for r in rows]


async def test_the_kicked_member_is_told_and_the_room_goes(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    # Here alice (the TUI) is the one kicked: bob owns #ops.
    bob, _, ops = await channel(srv, "bob", "alice")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        screen.open_room(ops)
        await bob.send(Kick(room=ops, user="alice", reason="off topic", rid="k"))
        await until(pilot, lambda: screen.active != ops, "another room on screen")
        await until(
            pilot,
            lambda: any("bob kicked you from #ops (off topic)" in t for t in toasts(app)),
            "the toast",
        )
        assert ops not in app.client.state.rooms  # type: ignore[union-attr]
        assert all(o.id != f"room-{ops}" for o in screen.room_list.options)
    assert await members_of(srv, ops) == ["bob"]


async def test_a_lock_hints_members_and_a_new_moderator_sees_the_hint_go(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob, _, ops = await channel(srv, "bob", "alice")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        screen.open_room(ops)
        hint = screen.query_one(HintLine)
        header = screen.query_one("#room-header")
        await bob.send(LockRoom(room=ops, locked=True, rid="l"))
        await until(pilot, lambda: "locked" in hint.text, "the locked hint")
        assert "🔒 locked" in plain(header)
        await until(pilot, lambda: "bob locked the room" in " ".join(notices(app)), "the line")
        await bob.send(SetRole(room=ops, user="alice", role="moderator", rid="r"))
        await until(pilot, lambda: "☆ moderator" in plain(header), "alice's new role")
        assert hint.text == "", "a moderator may post in a locked room"
        await until(
            pilot,
            lambda: any("bob made you a moderator in #ops" in t for t in toasts(app)),
            "toast",
        )
