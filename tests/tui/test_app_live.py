"""The real app against a real server: Pilot drives the TUI as alice while bob
speaks the protocol directly (tests/wire.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from textual.pilot import Pilot

from shared.frames import Ack, MessagePosted, SetPresence, Typing
from shared.frames import Send as SendFrame
from tchat_client.core import ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.tui.app import TchatApp
from tchat_client.tui.screens.main import MainScreen
from tchat_client.tui.screens.sign_in import SignInScreen
from tchat_client.tui.widgets.members import MemberList
from tchat_client.tui.widgets.status_lines import OfflineBanner, TypingLine
from tests.conftest import PASSWORD, Running
from tests.tui.transcript_app import screen_text, strips

DEADLINE = 15.0


async def until(pilot: Pilot[None], condition: Callable[[], object], what: str) -> None:
    """Let the app run until ``condition`` holds (fail after DEADLINE seconds)."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def main_screen(app: TchatApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), type(screen)
    return screen


def plain(widget: object) -> str:
    return str(widget.render())  # type: ignore[attr-defined]


@asynccontextmanager
async def alice_app(
    srv: Running, home: Path, size: tuple[int, int] = (120, 36)
) -> AsyncIterator[tuple[TchatApp, Pilot[None]]]:
    store = ProfileStore(home / "config", home / "data")
    profile = await sign_in(store, srv.url, "alice", PASSWORD)
    app = TchatApp(store, profile.name, bell_on_mention=False)
    async with app.run_test(size=size, notifications=True) as pilot:
        await until(pilot, lambda: app.client is not None and app.client.connected, "connected")
        yield app, pilot


async def test_sign_in_screen_signs_in_and_remembers_the_profile(
    srv: Running, tmp_path: Path
) -> None:
    await srv.user("alice")
    store = ProfileStore(tmp_path / "config", tmp_path / "data")
    app = TchatApp(store, bell_on_mention=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SignInScreen), "the sign-in screen")
        app.screen.query_one("#server").value = srv.url  # type: ignore[attr-defined]
        app.screen.query_one("#user").value = "alice"  # type: ignore[attr-defined]
        app.screen.query_one("#password").value = "wrong password"  # type: ignore[attr-defined]
        app.screen.query_one("#password").focus()
        await pilot.press("enter")
        await until(
            pilot, lambda: "wrong" in plain(app.screen.query_one("#error")), "an inline error"
        )
        assert isinstance(app.screen, SignInScreen)
        app.screen.query_one("#password").value = PASSWORD  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await until(pilot, lambda: app.client is not None and app.client.connected, "connected")
    profile = store.get()
    assert profile.user == "alice" and profile.token()


async def test_send_and_receive_with_a_second_client(srv: Running, tmp_path: Path) -> None:
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    assert bob.welcome is not None
    general = next(r.id for r in bob.welcome.rooms if r.name == "general")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        assert screen.room is not None and screen.room.name == "general"
        await bob.send(SendFrame(client_msg_id="b1", body="hello **alice**", room=general))
        await until(
            pilot,
            lambda: any("hello alice" in line for line in screen_text(screen.transcript)),
            "bob's message",
        )
        screen.composer.load_text("hi bob :wave:")
        screen.composer.focus()
        await pilot.press("enter")
        posted = await bob.expect(MessagePosted, lambda f: f.message.author == "alice")
        assert posted.message.body == "hi bob :wave:"
        await until(
            pilot,
            lambda: any(
                m.body == "hi bob :wave:" and m.state == "delivered"
                for m in screen.transcript.messages
            ),
            "the delivered state",
        )
        assert screen.composer.text == ""


async def test_open_a_dm_and_create_a_group(srv: Running, tmp_path: Path) -> None:
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        screen.composer.load_text("/dm @bob are you there?")
        await pilot.press("enter")
        posted = await bob.expect(MessagePosted, lambda f: f.message.author == "alice")
        assert posted.message.body == "are you there?"
        await until(
            pilot, lambda: screen.room is not None and screen.room.kind == "dm", "the DM to open"
        )
        assert screen.room is not None and screen.room.dm_user == "bob"

        screen.composer.load_text("/create group planning @bob")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                screen.room is not None
                and screen.room.name == "planning"
                and screen.room.kind == "group"
            ),
            "the new group to open",
        )
        assert screen.room is not None and screen.room.member_count == 2


async def test_typing_line_appears_and_expires(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(typing_expiry=0.5)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    assert bob.welcome is not None
    general = next(r.id for r in bob.welcome.rooms if r.name == "general")
    async with alice_app(srv, tmp_path) as (app, pilot):
        typing = app.screen.query_one(TypingLine)
        await bob.send(Typing(room=general))
        await until(pilot, lambda: plain(typing) == "bob is typing…", "the typing line")
        await until(pilot, lambda: plain(typing) == "", "the typing line to expire")


async def test_presence_changes_show_in_the_member_list(srv: Running, tmp_path: Path) -> None:
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    async with alice_app(srv, tmp_path) as (app, pilot):
        await pilot.press("ctrl+b")
        members = app.screen.query_one(MemberList)
        await until(
            pilot, lambda: "bob" in plain(members) and "ONLINE" in plain(members), "bob online"
        )
        await bob.send(SetPresence(status="away", text="at lunch"))
        await until(
            pilot, lambda: "AWAY" in plain(members) and "at lunch" in plain(members), "bob away"
        )
        await bob.close()
        await until(pilot, lambda: "OFFLINE" in plain(members), "bob offline")


async def test_offline_banner_queues_and_flushes_on_reconnect(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server()  # type: ignore[misc]
    port = srv.server.port
    await srv.user("alice")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        banner = app.screen.query_one(OfflineBanner)
        assert not banner.has_class("-shown")
        await srv.stop()
        await until(pilot, lambda: banner.has_class("-shown"), "the offline banner")
        screen.composer.load_text("written while offline")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any(
                m.body == "written while offline" and m.state == "queued"
                for m in screen.transcript.messages
            ),
            "the queued message",
        )
        await until(pilot, lambda: "1 queued" in plain(banner), "the queued count")
        again: Running = await start_server(port=port)  # type: ignore[misc]
        await until(
            pilot,
            lambda: any(
                m.body == "written while offline" and m.state == "delivered"
                for m in screen.transcript.messages
            ),
            "delivery after reconnect",
        )
        await until(pilot, lambda: not banner.has_class("-shown"), "the banner to go")
        rows = await again.services.db.fetch_all(
            "SELECT body FROM messages WHERE body = 'written while offline'"
        )
        assert len(rows) == 1


PAYLOADS = {
    "osc0-title": "\x1b]0;pwned\x07title",
    "osc52-clipboard": "\x1b]52;c;aGVsbG8=\x07clip",
    "csi-clear": "\x1b[2Jcleared",
    "c1-csi": "\x9b31mred",
    "bell": "ding\x07dong",
    "bare-cr": "line\roverwrite",
    "bidi": "abc\u202edcba",
    "markup": "[/bold] and [link=https://evil]click[/link]",
}


async def test_injection_payloads_render_inert(srv: Running, tmp_path: Path) -> None:
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    assert bob.welcome is not None
    general = next(r.id for r in bob.welcome.rooms if r.name == "general")
    async with alice_app(srv, tmp_path, size=(120, 50)) as (app, pilot):
        screen = main_screen(app)
        for index, payload in enumerate(PAYLOADS.values()):
            await bob.send(SendFrame(client_msg_id=f"p{index}", body=payload, room=general))
        await until(
            pilot,
            lambda: (
                len([m for m in screen.transcript.messages if m.author == "bob"]) == len(PAYLOADS)
            ),
            "every payload",
        )
        await pilot.pause()
        text = "".join(segment.text for strip in strips(screen.transcript) for segment in strip)
        forbidden = [
            ch for ch in text if (ord(ch) < 0x20 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F
        ]
        assert forbidden == []
        assert "\u202e" not in text
        assert "[/bold] and [link=https://evil]click[/link]" in text
        assert all(
            segment.style is None or segment.style.link is None
            for strip in strips(screen.transcript)
            for segment in strip
        )
        assert "pwned" in text  # shown, visibly, not swallowed by the terminal


async def test_a_dm_elsewhere_notifies_and_counts_unread(srv: Running, tmp_path: Path) -> None:
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        assert screen.room is not None and screen.room.name == "general"
        await bob.send(SendFrame(client_msg_id="dm1", body="psst, got a minute?", dm="alice"))
        await until(pilot, lambda: len(app._notifications) > 0, "a toast")
        toast = next(iter(app._notifications))
        assert "bob" in toast.title and "got a minute" in toast.message
        await until(
            pilot,
            lambda: any(r.kind == "dm" and r.unread == 1 for r in app.client.state.rooms.values()),  # type: ignore[union-attr]
            "the DM's unread count",
        )
        assert screen.room is not None and screen.room.name == "general", "focus stays where it was"


async def test_older_history_pages_in_when_scrolling_up(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(rate_per_second=10_000.0, rate_burst=10_000)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    assert bob.welcome is not None
    general = next(r.id for r in bob.welcome.rooms if r.name == "general")
    for index in range(260):
        await bob.send(SendFrame(client_msg_id=f"h{index}", body=f"line {index}", room=general))
    await bob.expect(Ack, lambda f: f.client_msg_id == "h259", timeout=30)
    async with alice_app(srv, tmp_path) as (app, pilot):
        transcript = main_screen(app).transcript

        def lowest() -> int:
            return min((m.seq for m in transcript.messages if m.seq is not None), default=10**9)

        await until(pilot, lambda: lowest() < 10**9, "the first page")
        assert lowest() > 1, "the first view does not load the whole room"
        while lowest() > 1:
            before = lowest()
            transcript.scroll_home(animate=False)
            await until(pilot, lambda before=before: lowest() < before, "an older page")  # type: ignore[misc]
        assert [m.seq for m in transcript.messages] == list(range(1, 261))
