"""Terminal injection: text from other people (messages, a DM's toast, a topic, a
status) that tries to drive the terminal renders inert in the TUI and in the CLI.
Escape sequences and controls show as visible symbols, markup shows as typed, no
hyperlink is made, floods of invisible characters are capped; ``tchat history
--raw`` is the one way to get the bytes as they were sent.

The TUI is checked on the whole screen as the compositor renders it for the
terminal, not on one widget."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from rich.segment import Segment
from textual.app import App
from textual.strip import Strip

from shared.frames import Ack, Ok, RoomJoined, Send, SetPresence, SetTopic
from tests.client.conftest import Cli, read_line
from tests.server.util import StartServer, room_id
from tests.tui.test_app_live import alice_app, main_screen, until
from tests.wire import Wire

PAYLOADS = {
    "osc0-title": "\x1b]0;pwned-title\x07after the title",
    "osc52-clipboard": "\x1b]52;c;cm0gLXJmIH4K\x07clipboard",
    "csi-clear": "\x1b[2Jcleared the screen",
    "c1-csi": "\x9b31mred by C1",
    "bell": "ding\x07dong",
    "bare-cr": "innocent text\rEVIL",
    "bidi-override": "invoice\u202eexe.pdf",
    "rich-markup": "[/bold] [bold red]loud[/] [link=https://evil.example]markup link[/link]",
    "osc8-hyperlink": "\x1b]8;;https://evil.example\x1b\\a real link\x1b]8;;\x1b\\",
    "decrqss": '\x1bP$q"p\x1b\\ asks the terminal',
    "zwj-flood": "joined" + "\u200d" * 10_000 + "end",
    "zalgo": "zalgo e" + "\u0301" * 500,
}
"""Every payload of the TUI issue, and OSC 8, DECRQSS and the two floods."""

SHOWN = [
    "␛]0;pwned-title␇after the title",
    "␛]52;c;cm0gLXJmIH4K␇clipboard",
    "␛[2Jcleared the screen",
    "<9b>31mred by C1",
    "ding␇dong",
    "innocent text␍EVIL",
    "invoiceexe.pdf",
    "␛P$q",
]
"""How some of them read once made visible (the same in the TUI and the CLI)."""

BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def inert(text: str) -> list[str]:
    """What in ``text`` could still drive a terminal, or flood it."""
    found = []
    for i, ch in enumerate(text):
        code = ord(ch)
        if (code < 0x20 and ch not in "\n\t") or 0x7F <= code <= 0x9F:
            found.append(f"control {code:#x}")
        elif ch in BIDI:
            found.append(f"bidi {code:#x}")
        elif ch == "\u200d" and i and text[i - 1] == "\u200d":
            found.append("a run of zero-width joiners")
    marks = 0
    for ch in text:
        marks = marks + 1 if unicodedata.combining(ch) else 0
        if marks > 4:
            found.append("more than 4 combining marks on one character")
            break
    return found


async def post_all(bob: Wire, room: int) -> None:
    for n, payload in enumerate(PAYLOADS.values()):
        await bob.send(Send(client_msg_id=f"p{n}", body=payload, room=room))
    last = f"p{len(PAYLOADS) - 1}"
    await bob.find(Ack, where=lambda a: a.client_msg_id == last)
    assert len(bob.seen(Ack)) == len(PAYLOADS)  # every payload was stored


def screen_segments(app: App[None]) -> list[Segment]:
    """Every segment of the whole screen, as the app would write it to the terminal."""
    update = app.screen._compositor.render_update(full=True)
    found: list[Segment] = []

    def walk(item: object) -> None:
        if isinstance(item, Segment):
            found.append(item)
        elif isinstance(item, Strip | Iterable) and not isinstance(item, str):
            for part in item:
                walk(part)

    walk(getattr(update, "strips", []))
    assert found, "nothing rendered"
    return found


async def test_the_tui_shows_every_payload_inert(start_server: StartServer, tmp_path: Path) -> None:
    srv = await start_server(max_body=16_000)  # room for ten thousand joiners
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    general = room_id(bob)
    async with alice_app(srv, tmp_path, size=(160, 60)) as (app, pilot):
        screen = main_screen(app)
        await pilot.press("ctrl+b")  # the member list, with bob's status
        await post_all(bob, general)
        await bob.send(SetTopic(room=general, topic=PAYLOADS["osc52-clipboard"], rid="t"))
        await bob.send(SetPresence(status="away", text=PAYLOADS["rich-markup"][:100], rid="s"))
        await bob.find(Ok, where=lambda ok: ok.rid == "s")
        # A DM elsewhere raises a toast with its text.
        await bob.send(Send(client_msg_id="dm", body=PAYLOADS["osc8-hyperlink"], dm="alice"))
        await bob.find(RoomJoined)

        def arrived() -> bool:
            shown = [m for m in screen.transcript.messages if m.author == "bob"]
            return len(shown) == len(PAYLOADS) and len(app._notifications) > 0

        await until(pilot, arrived, "every payload and the DM's toast")
        await pilot.pause()
        segments = screen_segments(app)

    text = "".join(segment.text for segment in segments)
    assert inert(text) == []
    assert [s.text for s in segments if s.style is not None and s.style.link] == []
    for visible in [*SHOWN, "[link=https://evil.example]markup link[/link]", "[/bold]"]:
        assert visible in text, visible
    assert "pwned-title" not in (app.title or "") + (app.sub_title or "")
    assert "a real link" in text  # the DM's toast shows it, as text


async def test_the_cli_shows_every_payload_inert_unless_raw(
    start_server: StartServer, tmp_path: Path
) -> None:
    srv = await start_server(max_body=16_000)
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    general = room_id(bob)
    await post_all(bob, general)
    await bob.send(SetTopic(room=general, topic=PAYLOADS["osc0-title"], rid="t"))
    await bob.find(Ok, where=lambda ok: ok.rid == "t")
    alice = Cli(tmp_path / "alice")
    await alice.login(srv.url, "alice")

    history = (await alice.ok("history", "general")).out
    tail = (await alice.ok("tail", "general", "-n", "20")).out
    rooms = (await alice.ok("rooms")).out
    for shown in (history, tail, rooms):
        assert inert(shown) == [], shown
    for visible in SHOWN:
        assert visible in history and visible in tail, visible
    assert "␛]0;pwned-title␇" in rooms
    assert len(history) < 3000  # ten thousand joiners and five hundred marks, capped

    raw = (await alice.ok("history", "general", "--raw")).out
    raw_tail = (await alice.ok("tail", "general", "-n", "20", "--raw")).out
    for payload in PAYLOADS.values():
        first = payload.replace("\r", "\n").split("\n")[0]
        assert first in raw and first in raw_tail, payload[:20]
    exact = [
        json.loads(line)["body"] for line in (await alice.ok("history", "general", "--json")).lines
    ]
    assert exact == list(PAYLOADS.values())

    # Following: what arrives live is made visible the same way.
    follow = await alice.spawn("tail", "-f", "-n", "1", "general")
    try:
        assert inert(await read_line(follow)) == []
        await bob.send(Send(client_msg_id="live", body=PAYLOADS["osc52-clipboard"], room=general))
        line = await read_line(follow)
        assert inert(line) == [] and "␛]52;c;cm0gLXJmIH4K␇clipboard" in line
    finally:
        follow.terminate()
        assert await follow.wait() == 0
