"""A picture of the search results view, fed a local list of results (no server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tchat_client.core.models import Message
from tchat_client.tui.app import TchatApp
from tchat_client.tui.screens.main import MainScreen
from tchat_client.tui.screens.search import SearchScreen
from tests.tui.offline_world import DAY_ONE, offline_store

RESULTS = [
    Message(2, 1, "carol", "CI is green again, release today :green_heart:", DAY_ONE, "d1", 9),
    Message(
        1, 8, "bob", "the trick for the release:\n```python\nasync def drain", DAY_ONE, "c8", 8
    ),
    Message(1, 2, "bob", "thanks! I'll bring the Release notes", DAY_ONE + 1200, "c2", 2),
    Message(5, 1, "alice", "\x1b[31mrelease\x1b[0m [bold]not markup[/bold]", DAY_ONE, "x", 10),
]


def test_search_results(snap_compare: Any, tmp_path: Path) -> None:
    store, name = offline_store(tmp_path)
    app = TchatApp(store, name, connect=False, bell_on_mention=False)

    async def open_search(pilot: Pilot[None]) -> None:
        await pilot.pause()
        main = pilot.app.screen
        assert isinstance(main, MainScreen)
        screen = SearchScreen(None, main._room_label, query="release from:bob", results=RESULTS)
        await pilot.app.push_screen(screen)
        await pilot.pause()
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=open_search)
