"""Pictures of what changes after a message is stored, from the cached world (no
server): #dev with a thread, reactions, an edit, a tombstone and a file card; the
thread view; the reaction picker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tchat_client.tui.app import TchatApp
from tchat_client.tui.screens.main import MainScreen
from tchat_client.tui.screens.reactions import ReactionPicker
from tchat_client.tui.screens.thread import ThreadScreen
from tests.tui.offline_world import DEV, offline_store

SIZE = (120, 36)


async def _freeze(pilot: Pilot[None]) -> None:
    await pilot.pause()
    for widget in pilot.app.screen.query("Composer, Input"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()


async def _open_dev(pilot: Pilot[None]) -> MainScreen:
    await pilot.pause()
    main = pilot.app.screen
    assert isinstance(main, MainScreen)
    main.open_room(2)
    await pilot.pause()
    return main


def _app(tmp_path: Path) -> TchatApp:
    store, name = offline_store(tmp_path)
    return TchatApp(store, name, connect=False, bell_on_mention=False)


def test_dev_room_with_thread_reactions_edit_tombstone_file(
    snap_compare: Any, tmp_path: Path
) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        main = await _open_dev(pilot)
        main.transcript.focus()
        main.transcript.select(7)
        await _freeze(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_thread_view(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        main = await _open_dev(pilot)
        held = main.client.state.messages(2)  # as cached: own ones carry their state
        parent = next(m for m in held if m.seq == DEV[1].seq)
        replies = [m for m in held if m.reply_to == parent.seq]
        await pilot.app.push_screen(ThreadScreen(main.client, 2, 2, loaded=(parent, replies)))
        await _freeze(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_reaction_picker(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _open_dev(pilot)
        picker = ReactionPicker(
            title="React to bob: numbers from last night", frequent=["👀", "💚"], given=["👀"]
        )
        await pilot.app.push_screen(picker)
        await _freeze(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_reaction_picker_search(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _open_dev(pilot)
        await pilot.app.push_screen(ReactionPicker(title="React"))
        await pilot.press(*"party")
        await _freeze(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_replying_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    """The composer says what it replies to; the narrow layout keeps the chips."""

    async def run_before(pilot: Pilot[None]) -> None:
        main = await _open_dev(pilot)
        main.transcript.focus()
        main.transcript.select(7)
        await pilot.press("r")
        await _freeze(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=run_before)
