"""Notification levels, mute and catching up in the real app against a real server:
alice drives the TUI, bob speaks the protocol (tests/wire.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shared.frames import CreateRoom, Join, MarkRead, ReadMarkerMoved, RoomJoined
from shared.frames import Send as SendFrame
from tchat_client.core import Client, ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.core.connection import Backoff
from tchat_client.tui.app import TchatApp
from tchat_client.tui.catch_up import AwaySummary, summary_text
from tchat_client.tui.screens.main import MainScreen
from tchat_client.tui.widgets.room_list import RoomList
from tests.conftest import PASSWORD, Running
from tests.server.util import FAST, post, post_many, room_id
from tests.tui.test_app_live import alice_app, main_screen, until
from tests.wire import Wire


async def ops_room(srv: Running) -> tuple[Wire, int]:
    """alice owns #ops, bob is in it; returns bob's wire and the room id."""
    alice = await srv.connect("alice")
    await alice.send(CreateRoom(name="ops", rid="c"))
    ops = (await alice.find(RoomJoined, where=lambda j: j.room.name == "ops")).room.id
    bob = await srv.connect("bob")
    await bob.send(Join(name="ops", rid="j"))
    await bob.find(RoomJoined, where=lambda j: j.room.name == "ops")
    await alice.close()
    return bob, ops


def toasts(app: TchatApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def run_command(screen: MainScreen, pilot: object, line: str) -> None:
    screen.composer.load_text(line)
    screen.composer.focus()
    await pilot.press("enter")  # type: ignore[attr-defined]


async def test_mentions_level_alerts_only_on_a_mention(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob, ops = await ops_room(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        client = app.client
        assert client is not None
        screen.open_room(ops)
        header = screen.query_one("#room-header")
        assert client.state.rooms[ops].notify == "mentions"  # a channel's default
        assert "🔔" not in str(header.render())  # the default is not marked
        await run_command(screen, pilot, "/notify all")
        await until(pilot, lambda: client.state.rooms[ops].notify == "all", "the new level")
        assert "all messages" in str(header.render())
        await run_command(screen, pilot, "/notify mentions")
        await until(pilot, lambda: client.state.rooms[ops].notify == "mentions", "the new level")
        assert "🔔" not in str(header.render())
        screen.open_room(room_id(bob))  # general: ops is now elsewhere
        app.clear_notifications()
        await post(bob, ops, "a plain message nobody needs to hear about")
        await until(pilot, lambda: client.state.rooms[ops].unread == 1, "the unread count")
        await pilot.pause()
        assert not any("plain message" in t for t in toasts(app))
        await post(bob, ops, "@alice can you look at this?")
        await until(pilot, lambda: any("can you look" in t for t in toasts(app)), "a toast")
        assert any(t.startswith("bob in #ops") for t in toasts(app))
        # @here mentions everyone online, alice too.
        await post(bob, ops, "@here anyone?")
        await until(pilot, lambda: any("anyone?" in t for t in toasts(app)), "@here alerts")


async def test_level_none_and_a_refused_level_change_change_nothing(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob, ops = await ops_room(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        client = app.client
        assert client is not None
        screen.open_room(ops)
        await run_command(screen, pilot, "/notify loud")
        await until(pilot, lambda: any("usage: /notify" in t for t in toasts(app)), "usage")
        assert screen.composer.text == "/notify loud", "a bad command stays to be fixed"
        await run_command(screen, pilot, "/notify none")
        await until(pilot, lambda: client.state.rooms[ops].notify == "none", "level none")
        screen.open_room(room_id(bob))
        app.clear_notifications()
        await post(bob, ops, "@alice you will not hear this")
        await until(pilot, lambda: client.state.rooms[ops].mentions == 1, "the mention count")
        await pilot.pause()
        assert not any("will not hear" in t for t in toasts(app))
        row = next(o for o in screen.room_list.options if o.id == f"room-{ops}")
        assert "@1" in str(row.prompt), "the mention badge still shows"
    rows = await srv.services.db.fetch_all(
        "SELECT m.notify FROM members m JOIN users u ON u.id = m.user_id"
        " WHERE m.room_id = ? AND u.name = 'alice'",
        (ops,),
    )
    assert [r[0] for r in rows] == ["none"]


async def test_a_muted_room_shows_no_badge_and_never_alerts(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob, ops = await ops_room(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        client = app.client
        assert client is not None
        screen.open_room(ops)
        await run_command(screen, pilot, "/notify mute")
        await until(pilot, lambda: client.state.rooms[ops].muted, "the room muted")
        assert "🔕" in str(screen.query_one("#room-header").render())
        screen.open_room(room_id(bob))
        app.clear_notifications()
        await post(bob, ops, "chatter in a muted room")
        await until(pilot, lambda: client.state.rooms[ops].unread == 1, "the unread count")
        await pilot.pause()

        def row() -> str:
            option = next(o for o in screen.room_list.options if o.id == f"room-{ops}")
            return str(option.prompt)

        assert "🔕" in row() and not row().rstrip().endswith("1"), row()
        assert not any("chatter" in t for t in toasts(app))
        await post(bob, ops, "@alice but this one is for you")
        await until(pilot, lambda: "@1" in row(), "the mention badge")
        await pilot.pause()
        assert not any("for you" in t for t in toasts(app)), "muted: no alert even for a mention"
        screen.open_room(ops)
        await run_command(screen, pilot, "/notify unmute")
        await until(pilot, lambda: not client.state.rooms[ops].muted, "unmuted")


class Patient(Backoff):
    """Reconnects only when told (``retry_now``): the test decides when the client
    comes back, so that what happened meanwhile is settled."""

    def next(self) -> float:
        return 600.0


async def test_away_summary_after_a_reconnect_and_alt_a_opens_the_first_room(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    port = srv.server.port
    await srv.user("alice")
    await srv.user("bob")
    bob, ops = await ops_room(srv)
    general = room_id(bob)
    store = ProfileStore(tmp_path / "config", tmp_path / "data")
    client = Client(await sign_in(store, srv.url, "alice", PASSWORD), backoff=Patient())
    app = TchatApp(store, "alice", client=client, bell_on_mention=False)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await until(pilot, lambda: client.connected, "connected")
        screen = main_screen(app)
        await until(pilot, lambda: screen.active == general, "general open")
        summary = screen.query_one(AwaySummary)
        summary.hide()
        await bob.send(SendFrame(client_msg_id="d1", body="seen before the drop", dm="alice"))
        await until(
            pilot,
            lambda: any(r.kind == "dm" and r.unread for r in client.state.rooms.values()),
            "a DM unread before the drop",
        )
        await srv.stop()
        await until(pilot, lambda: client.state.connection.status == "disconnected", "waiting")
        app.clear_notifications()
        again: Running = await start_server(port=port, **FAST)  # type: ignore[misc]
        bob = await again.connect("bob")
        for n in range(3):
            await post(bob, ops, f"ops news {n}")
        await post(bob, ops, "@alice and a question for you")
        client.retry_now()
        await until(pilot, lambda: client.connected, "back online")
        await until(pilot, lambda: summary.shown, "the away summary")
        assert [r.id for r in summary.rooms] == [ops], "only rooms with news since the drop"
        assert not any("ops news" in t or "question" in t for t in toasts(app)), "no toast storm"
        assert summary_text(summary.rooms) == "Since you were away: #ops 4 (1 mention)"
        assert "#ops 4 (1 mention)" in str(summary.render())
        await pilot.press("alt+a")
        await until(pilot, lambda: screen.active == ops, "ops opened")
        assert not summary.shown
        await until(
            pilot,
            lambda: any(m.body == "ops news 0" for m in screen.transcript.messages),
            "the first unread message shown",
        )
        await until(pilot, lambda: client.state.rooms[ops].unread == 0, "ops read")


async def test_markunread_keeps_the_room_unread_and_unread_jumps_back(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob, ops = await ops_room(srv)
    general = room_id(bob)
    for n in range(5):
        await post(bob, ops, f"old news {n}")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        client = app.client
        assert client is not None
        summary = screen.query_one(AwaySummary)
        await until(pilot, lambda: summary.shown, "the summary at start")
        assert summary_text(summary.rooms) == "Since you were away: #ops 5"
        summary.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.active == ops, "Enter in the summary opens #ops")
        assert not summary.shown
        await until(pilot, lambda: client.state.rooms[ops].unread == 0, "ops read")
        summary.show([client.state.rooms[general]])
        await pilot.press("escape")
        assert not summary.shown, "Escape hides the summary"
        await run_command(screen, pilot, "/markunread")
        await until(pilot, lambda: client.state.rooms[ops].unread == 1, "one unread again")
        assert client.state.rooms[ops].last_read_seq == client.state.rooms[ops].latest_seq - 1
        await post(bob, ops, "something new")
        await until(pilot, lambda: client.state.rooms[ops].unread == 2, "still unread")
        assert screen.transcript.unread_seq == client.state.rooms[ops].latest_seq - 1
        screen.open_room(room_id(bob))
        rooms = screen.query_one(RoomList)
        await until(
            pilot,
            lambda: "2" in str(next(o for o in rooms.options if o.id == f"room-{ops}").prompt),
            "the badge",
        )


async def test_alt_u_loads_older_history_down_to_the_first_unread(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob, ops = await ops_room(srv)
    alice = await srv.connect("alice")
    await post(bob, ops, "already read")
    await alice.send(MarkRead(room=ops, seq=1))
    await alice.find(ReadMarkerMoved, where=lambda f: f.seq == 1)
    await alice.close()
    await post_many(bob, ops, 220, "later")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        client = app.client
        assert client is not None
        await until(pilot, lambda: client.state.rooms[ops].unread == 220, "220 unread")
        screen.open_room(ops)
        await until(pilot, lambda: screen.transcript.messages, "the newest page")

        def seqs() -> list[int]:
            return [m.seq for m in screen.transcript.messages if m.seq is not None]

        await until(pilot, lambda: seqs() and min(seqs()) > 2, "the newest messages")
        assert screen.transcript.unread_seq == 2
        await pilot.press("alt+u")
        await until(pilot, lambda: 2 in seqs(), "the first unread message loaded")
        assert seqs() == sorted(set(seqs())) and max(seqs()) - min(seqs()) + 1 == len(seqs())
        await pilot.pause()
        top = screen.transcript.scroll_y
        assert top < screen.transcript.max_scroll_y, "scrolled up to the first unread"
