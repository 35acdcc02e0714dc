"""Flooding: past the rate, an error frame naming the request; sustained, a
disconnect (``tests/server/test_bad_input.py`` shows both). Here: a long paste is
one message and counts once against the rate, on the wire and from the TUI."""

from __future__ import annotations

from pathlib import Path

from textual import events

from shared.errors import ErrorCode
from shared.frames import Ack, Ping, Pong, Send
from tchat_client.tui.widgets.composer import Composer
from tests.conftest import Running
from tests.server.util import StartServer, error_for, room_id
from tests.tui.test_app_live import alice_app, main_screen, until

PASTE = "\n".join(
    f"{n:3d}    result = compute(values[{n}], weight={n * 7 % 13}) or fallback(n={n}, retry=True)"
    for n in range(50)
)
"""A pasted log excerpt: 50 lines, about 3,800 characters."""


async def test_a_long_paste_counts_once_against_the_rate(start_server: StartServer) -> None:
    srv = await start_server(rate_per_second=0.01, rate_burst=3, flood_disconnect_after=50)
    await srv.user("alice")
    alice = await srv.connect("alice")
    general = room_id(alice)
    assert len(PASTE) > 3500 and PASTE.count("\n") == 49
    await alice.send(Send(client_msg_id="paste", body=PASTE, room=general))
    ack = await alice.find(Ack)
    assert ack.client_msg_id == "paste"
    # One frame spent of three: two more go through, the fourth is refused.
    for rid in ("p1", "p2"):
        await alice.send(Ping(rid=rid))
        await alice.find(Pong, where=lambda p, rid=rid: p.rid == rid)  # type: ignore[misc]
    await alice.send(Send(client_msg_id="paste-2", body=PASTE, room=general, rid="over"))
    error = await error_for(alice, rid="over")
    assert error.code == ErrorCode.RATE_LIMITED and error.client_msg_id == "paste-2"
    assert error.retry_after is not None and error.retry_after > 0
    rows = await srv.services.db.fetch_all("SELECT body FROM messages")
    assert [row[0] for row in rows] == [PASTE]
    assert alice.closed is None


async def test_a_paste_in_the_tui_is_sent_as_one_message(srv: Running, tmp_path: Path) -> None:
    await srv.user("alice")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        composer = screen.query_one(Composer)
        composer.focus()
        app.post_message(events.Paste(PASTE))  # as the terminal's bracketed paste arrives
        await until(pilot, lambda: composer.text == PASTE, "the paste in the composer")
        await pilot.press("enter")
        client = app.client
        assert client is not None

        def delivered() -> bool:
            return any(
                m.body == PASTE and m.state == "delivered"
                for room in client.state.rooms.values()
                for m in client.state.messages(room.id)
            )

        await until(pilot, delivered, "the paste delivered")
    rows = await srv.services.db.fetch_all("SELECT body FROM messages")
    assert [row[0] for row in rows] == [PASTE]  # one message, every line of it
