"""Pictures of the real app (pytest-textual-snapshot), from a cached world with no
server: the main screen at 120x36 and 80x24, help, sign-in and offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tchat_client.core import ProfileStore
from tchat_client.tui.app import TchatApp
from tests.tui.offline_world import offline_store


async def _settle(pilot: Pilot[None]) -> None:
    for widget in pilot.app.screen.query("Composer, Input"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()


def test_main_screen_120x36(snap_compare: Any, tmp_path: Path) -> None:
    store, name = offline_store(tmp_path)
    app = TchatApp(store, name, connect=False, bell_on_mention=False)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_settle)


def test_main_screen_80x24(snap_compare: Any, tmp_path: Path) -> None:
    store, name = offline_store(tmp_path)
    app = TchatApp(store, name, connect=False, bell_on_mention=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle)


def test_help(snap_compare: Any, tmp_path: Path) -> None:
    store, name = offline_store(tmp_path)
    app = TchatApp(store, name, connect=False, bell_on_mention=False)

    async def open_help(pilot: Pilot[None]) -> None:
        await pilot.press("f1")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=open_help)


def test_offline_with_a_queued_message(snap_compare: Any, tmp_path: Path) -> None:
    store, name = offline_store(tmp_path, queued="I'll send this when we're back")
    app = TchatApp(store, name, connect=False, bell_on_mention=False)
    assert snap_compare(app, terminal_size=(120, 36), run_before=_settle)


def test_sign_in(snap_compare: Any, tmp_path: Path) -> None:
    app = TchatApp(ProfileStore(tmp_path / "config", tmp_path / "data"))
    assert snap_compare(app, terminal_size=(120, 36), run_before=_settle)


async def test_the_theme_is_remembered_in_the_profile(tmp_path: Path) -> None:
    store, name = offline_store(tmp_path)
    app = TchatApp(store, name, connect=False, bell_on_mention=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.theme = "nord"
        await pilot.pause()
    again = TchatApp(store, name, connect=False, bell_on_mention=False)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.theme == "nord"


async def test_the_command_palette_offers_every_screen_action(tmp_path: Path) -> None:
    store, name = offline_store(tmp_path)
    app = TchatApp(store, name, connect=False, bell_on_mention=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for wanted in (
            "Switch room",
            "Help",
            "Members",
            "Next unread room",
            "Jump to first unread",
            "Catch up: next room with news",
            "Alerts: only mentions in #general",
            "Mute #general",
            "Mark #general unread",
            "Upload a file…",
        ):
            assert wanted in titles
        assert "Toggle terminal bell on alerts" in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert type(app.screen).__name__ == "CommandPalette"


async def test_pasting_many_lines_keeps_them_in_the_composer(tmp_path: Path) -> None:
    """A paste is text, not keystrokes: its newlines stay and nothing is sent."""
    from textual import events

    store, name = offline_store(tmp_path)
    app = TchatApp(store, name, connect=False, bell_on_mention=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        composer = app.screen.query_one("#composer")
        app.post_message(events.Paste("line one\nline two\nline three"))
        await pilot.pause()
        assert composer.text == "line one\nline two\nline three"  # type: ignore[attr-defined]
        assert app.client is not None and not app.client.state.outgoing
        await pilot.press("enter")
        await pilot.pause()
        sent = list(app.client.state.outgoing.values())
        assert [m.body for m in sent] == ["line one\nline two\nline three"]
