"""``make screenshots``: drive the real app against the demo server and save the
README's pictures (SVG from Textual, PNG through cairosvg)."""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from websockets.asyncio.client import connect

from shared.codec import decode_server, encode
from shared.frames import PROTOCOL_VERSION, Login, Typing, Welcome
from tchat_client.core import ProfileStore
from tchat_client.demo.seed import DEMO_PASSWORD
from tchat_client.demo.world import DemoWorld
from tchat_client.tui.app import TchatApp

__all__ = ["take_pictures"]


def to_png(svg_path: Path) -> Path:
    """Convert with a monospace font this machine has (Textual's SVG asks for Fira Code)."""
    import cairosvg

    svg = svg_path.read_text(encoding="utf-8")
    svg = re.sub(r"font-family:[^;\"]*", "font-family: DejaVu Sans Mono", svg)
    png = svg_path.with_suffix(".png")
    cairosvg.svg2png(bytestring=svg.encode(), write_to=str(png), output_width=1400)
    return png


async def _until(pilot: Pilot[None], condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 15.0
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the demo app did not get there in time")
        await pilot.pause(0.05)


async def _shoot(app: TchatApp, out: Path, name: str) -> None:
    svg = out / f"{name}.svg"
    app.save_screenshot(filename=svg.name, path=str(out))
    to_png(svg)
    print(f"screenshots: {svg.with_suffix('.png')}")


def _freeze(app: TchatApp) -> None:
    for widget in app.screen.query("Composer, Input"):
        widget.cursor_blink = False  # type: ignore[attr-defined]


async def _typing_as(url: str, user: str, room_name: str) -> None:
    async with connect(url, compression=None) as ws:
        await ws.send(
            encode(Login(protocol=PROTOCOL_VERSION, username=user, password=DEMO_PASSWORD))
        )
        welcome = decode_server(await ws.recv())
        assert isinstance(welcome, Welcome)
        room = next(r.id for r in welcome.rooms if r.name == room_name)
        await ws.send(encode(Typing(room=room)))
        await asyncio.sleep(0.3)  # let the frame leave before the socket closes


def _connected(app: TchatApp) -> Callable[[], bool]:
    return lambda: app.client is not None and app.client.connected


def _typing_shown(app: TchatApp) -> Callable[[], bool]:
    return lambda: bool(str(app.screen.query_one("#typing").render()))


async def _main_pictures(
    world: DemoWorld, app: TchatApp, size: tuple[int, int], name: str, typist: str, out: Path
) -> None:
    async with app.run_test(size=size) as pilot:
        await _until(pilot, _connected(app))
        _freeze(app)
        await _typing_as(world.url, typist, "general")
        await _until(pilot, _typing_shown(app))
        await pilot.pause(0.3)
        await _shoot(app, out, name)
        if name != "main-120x36":
            return
        await pilot.press("f1")
        await pilot.pause(0.3)
        await _shoot(app, out, "help")
        await pilot.press("escape")
        await pilot.press("ctrl+k")
        await pilot.pause(0.2)
        await pilot.press("d", "e")
        await pilot.pause(0.3)
        _freeze(app)
        await _shoot(app, out, "quick-switcher")
        await pilot.press("escape")
        await _thread_and_reactions(app, pilot, out)


async def _thread_and_reactions(app: TchatApp, pilot: Pilot[None], out: Path) -> None:
    """The thread view of a message with replies, then the reaction picker on a
    message with reactions (both in #general, where the seed put them)."""
    from tchat_client.tui.screens.main import MainScreen
    from tchat_client.tui.widgets.transcript import Transcript

    screen = app.screen
    assert isinstance(screen, MainScreen) and app.client is not None
    general = next(r.id for r in app.client.state.rooms.values() if r.name == "general")
    screen.open_room(general)
    await pilot.pause(0.3)
    held = app.client.state.messages(general)
    parent = max((m for m in held if m.reply_count > 1), key=lambda m: m.reply_count)
    assert parent.seq is not None
    screen.open_thread(general, parent.seq)
    await pilot.pause(0.5)
    _freeze(app)
    await _shoot(app, out, "thread")
    await pilot.press("escape")
    await pilot.pause(0.2)
    reacted = [m for m in held if m.reactions and m.seq is not None]
    await pilot.press("up")  # pick a message, then the one with reactions
    screen.query_one(Transcript).select(reacted[-1].seq)
    await pilot.press("a")
    await pilot.pause(0.3)
    await pilot.press("t", "a")
    await pilot.pause(0.3)
    _freeze(app)
    await _shoot(app, out, "reactions")
    await pilot.press("escape")


async def take_pictures(world: DemoWorld, store: ProfileStore, profile: str, out: Path) -> None:
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    # Typing is relayed once per user per room per 3 s: each picture has its typist.
    for size, name, typist in (
        ((120, 36), "main-120x36", "bob"),
        ((80, 24), "main-80x24", "carol"),
    ):
        app = TchatApp(store, profile, bell_on_mention=False)
        await _main_pictures(world, app, size, name, typist, out)
    # Offline: stop the server, then write a message that has to wait in the outbox.
    app = TchatApp(store, profile, bell_on_mention=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await _until(pilot, _connected(app))
        _freeze(app)
        await asyncio.to_thread(world.stop_server)
        await _until(pilot, lambda: app.screen.query_one("#banner").has_class("-shown"))
        composer = app.screen.query_one("#composer")
        composer.load_text("I'll send this when we're back")  # type: ignore[attr-defined]
        composer.focus()
        await pilot.press("enter")
        await pilot.pause(1.0)
        await _shoot(app, out, "offline")
    # Sign-in, on an empty profile store.
    with tempfile.TemporaryDirectory() as empty:
        fresh = ProfileStore(Path(empty) / "config", Path(empty) / "data")
        app = TchatApp(fresh)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.3)
            _freeze(app)
            await _shoot(app, out, "sign-in")
