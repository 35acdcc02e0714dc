"""Search in the real app against a real server: ctrl+f, a query, Enter on a result,
and the room opens scrolled to the message, its older history loaded to reach it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shared.frames import Ack, CreateRoom, RoomJoined
from shared.frames import Send as SendFrame
from tchat_client.tui.screens.search import SearchScreen
from tests.conftest import Running
from tests.server.util import FAST, post
from tests.tui.test_app_live import alice_app, main_screen, until
from tests.tui.transcript_app import screen_text


async def test_search_and_jump_to_an_old_message(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(**FAST)  # type: ignore[misc]
    for name in ("alice", "bob", "carol"):
        await srv.user(name)
    bob = await srv.connect("bob")
    carol = await srv.connect("carol")
    assert bob.welcome is not None
    general = next(r.id for r in bob.welcome.rooms if r.name == "general")
    await carol.send(CreateRoom(name="hidden", kind="group", rid="g"))
    hidden = (await carol.find(RoomJoined, where=lambda j: j.room.name == "hidden")).room.id
    await post(carol, hidden, "a needle alice must never see")
    await post(bob, general, "the needle is here")
    for index in range(150):
        await bob.send(SendFrame(client_msg_id=f"f{index}", body=f"filler {index}", room=general))
    await bob.expect(Ack, lambda f: f.client_msg_id == "f149", timeout=30)
    await post(bob, general, "another needle, newer")

    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        await until(pilot, lambda: screen.room is not None, "a room to open")
        await until(pilot, lambda: screen.transcript.messages, "the first page")
        assert not any(m.seq == 1 for m in screen.transcript.messages)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "the search screen")
        search = app.screen
        assert isinstance(search, SearchScreen)
        await pilot.press(*"needle", "enter")
        await until(pilot, lambda: len(search.results) == 2, "two results")
        assert [m.body for m in search.results] == ["another needle, newer", "the needle is here"]
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.screen is screen, "the main screen again")
        assert screen.room is not None and screen.room.id == general
        await until(
            pilot,
            lambda: any("the needle is here" in line for line in screen_text(screen.transcript)),
            "the message in view",
        )
        seqs = [m.seq for m in screen.transcript.messages if m.seq is not None]
        assert seqs == list(range(min(seqs), 153)) and min(seqs) == 1  # no gap
