"""Actions on a selected message in the real app against a real server: Pilot drives
alice's TUI while bob speaks the protocol (tests/wire.py). Up in an empty composer
selects the newest message; r, e, d, a and t act on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from shared.frames import Delete, Join, MessagePosted, MessageUpdated, React, Send
from tchat_client.tui.app import TchatApp
from tchat_client.tui.screens.confirm import ConfirmScreen
from tchat_client.tui.screens.main import MainScreen
from tchat_client.tui.screens.reactions import ReactionPicker
from tchat_client.tui.screens.thread import ThreadScreen
from tests.conftest import Running
from tests.server.util import FAST, post, post_many
from tests.tui.test_app_live import alice_app, main_screen, until
from tests.tui.transcript_app import screen_text
from tests.wire import Wire


async def _setup(srv: Running) -> tuple[Wire, int]:
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    assert bob.welcome is not None
    return bob, next(r.id for r in bob.welcome.rooms if r.name == "general")


def _lines(screen: MainScreen | ThreadScreen) -> list[str]:
    return screen_text(screen.transcript)


def _shows(screen: MainScreen | ThreadScreen, text: str) -> bool:
    return any(text in line for line in _lines(screen))


async def _shown_seq(pilot: Pilot[None], screen: MainScreen, body: str) -> int:
    """Wait until a message with ``body`` is shown with its seq; return the seq."""
    await until(
        pilot,
        lambda: any(m.body == body and m.seq for m in screen.transcript.messages),
        f"{body!r} shown",
    )
    return next(m.seq for m in screen.transcript.messages if m.body == body and m.seq)


async def _select(pilot: Pilot[None], screen: MainScreen, seq: int) -> None:
    """Up from the composer, then up until the message with ``seq`` is selected."""
    screen.composer.focus()
    await pilot.press("up")
    for _ in range(20):
        selected = screen.transcript.selected
        if selected is not None and selected.seq == seq:
            return
        await pilot.press("up")
    raise AssertionError(f"could not select seq {seq}")


def _toasts(app: TchatApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_reply_sends_reply_to_and_both_sides_show_the_quote(
    srv: Running, tmp_path: Path
) -> None:
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        await post(bob, general, "first words of the parent message")
        seq = await _shown_seq(pilot, screen, "first words of the parent message")
        await _select(pilot, screen, seq)
        await pilot.press("r")
        assert screen.composer.has_focus
        assert "Replying to bob" in str(screen.composer.border_title)
        await pilot.press(*"agreed", "enter")
        posted = await bob.expect(MessagePosted, lambda f: f.message.author == "alice")
        assert posted.message.reply_to == seq
        assert posted.message.reply is not None
        assert posted.message.reply.snippet.startswith("first words")
        await until(pilot, lambda: _shows(screen, "↳ bob: first words"), "the quote")
        assert screen.composer.border_title is None  # the reply mode ended
        # Threads are one level deep: bob's answer to alice's reply joins the parent.
        await bob.send(
            Send(client_msg_id="b2", body="me too", room=general, reply_to=posted.message.seq)
        )
        await until(pilot, lambda: _shows(screen, "💬 2 replies"), "the parent's reply count")
        # bob answers a message of alice's: her transcript quotes her.
        screen.composer.load_text("lunch at noon?")
        await pilot.press("enter")
        lunch = await bob.expect(MessagePosted, lambda f: f.message.body == "lunch at noon?")
        await bob.send(
            Send(client_msg_id="b3", body="yes", room=general, reply_to=lunch.message.seq)
        )
        await until(pilot, lambda: _shows(screen, "↳ alice: lunch at noon?"), "the quote")


async def test_escape_cancels_a_reply(srv: Running, tmp_path: Path) -> None:
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        await post(bob, general, "a question")
        seq = await _shown_seq(pilot, screen, "a question")
        await _select(pilot, screen, seq)
        await pilot.press("r", "escape")
        assert screen.composer.border_title is None
        await pilot.press(*"unrelated", "enter")
        posted = await bob.expect(MessagePosted, lambda f: f.message.author == "alice")
        assert posted.message.reply_to is None


async def test_edit_own_message_shows_edited(srv: Running, tmp_path: Path) -> None:
    bob, _ = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        screen.composer.load_text("helo wrold")
        screen.composer.focus()
        await pilot.press("enter")
        seq = await _shown_seq(pilot, screen, "helo wrold")
        await _select(pilot, screen, seq)
        await pilot.press("e")
        assert screen.composer.text == "helo wrold"
        assert "Editing" in str(screen.composer.border_title)
        screen.composer.load_text("hello world")
        await pilot.press("enter")
        updated = await bob.expect(MessageUpdated, lambda f: f.message.seq == seq)
        assert updated.message.body == "hello world" and updated.message.edited
        await until(pilot, lambda: _shows(screen, "hello world (edited)"), "(edited)")
        assert screen.composer.text == "" and screen.composer.border_title is None


async def test_editing_someone_elses_message_is_refused_and_changes_nothing(
    srv: Running, tmp_path: Path
) -> None:
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        await post(bob, general, "bob's words")
        seq = await _shown_seq(pilot, screen, "bob's words")
        await _select(pilot, screen, seq)
        await pilot.press("e")
        await until(pilot, lambda: any("only edit your own" in t for t in _toasts(app)), "toast")
        assert screen.composer.text == "" and screen.actions.mode is None
        assert not screen.composer.has_focus  # still on the selection
        await pilot.press("d")  # deleting it: not a moderator of #general either
        await until(pilot, lambda: any("moderator" in t for t in _toasts(app)), "refusal")
        assert not isinstance(app.screen, ConfirmScreen)
    row = await srv.services.db.fetch_one(
        "SELECT body, edited_at, deleted FROM messages WHERE room_id = ? AND seq = ?",
        (general, seq),
    )
    assert tuple(row) == ("bob's words", None, 0)


async def test_delete_own_message_after_a_yes_and_see_bobs_tombstone(
    srv: Running, tmp_path: Path
) -> None:
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        screen.composer.load_text("oops, wrong room")
        screen.composer.focus()
        await pilot.press("enter")
        mine = await _shown_seq(pilot, screen, "oops, wrong room")
        await _select(pilot, screen, mine)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")  # no: nothing happens
        await until(pilot, lambda: app.screen is screen, "back")
        assert _shows(screen, "oops, wrong room")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        updated = await bob.expect(MessageUpdated, lambda f: f.message.seq == mine)
        assert updated.message.deleted and updated.message.body == ""
        await until(pilot, lambda: not _shows(screen, "oops, wrong room"), "the body gone")
        assert _shows(screen, "message deleted")
        # bob deletes one of his: alice sees the tombstone.
        ack = await post(bob, general, "never mind this")
        await until(pilot, lambda: _shows(screen, "never mind this"), "bob's message")
        await bob.send(Delete(room=general, seq=ack.seq, rid="d1"))
        await until(pilot, lambda: not _shows(screen, "never mind this"), "bob's tombstone")
        assert sum("message deleted" in line for line in _lines(screen)) == 2


async def test_react_with_the_picker_and_toggle_it_off(srv: Running, tmp_path: Path) -> None:
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        ack = await post(bob, general, "shipped!")
        seq = await _shown_seq(pilot, screen, "shipped!")
        await _select(pilot, screen, seq)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ReactionPicker), "the picker")
        await pilot.press(*"party popper", "enter")
        updated = await bob.expect(MessageUpdated, lambda f: f.message.seq == seq)
        assert [(r.emoji, r.users) for r in updated.message.reactions] == [("🎉", ["alice"])]
        await until(pilot, lambda: _shows(screen, "🎉 1"), "the chip")
        await bob.send(React(room=general, seq=ack.seq, emoji="🎉", rid="r1"))
        await until(pilot, lambda: _shows(screen, "🎉 2"), "bob's reaction counted")
        # Picking it again removes alice's.
        assert screen.transcript.selected is not None
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ReactionPicker), "the picker")
        await pilot.press(*"tada", "enter")
        await until(pilot, lambda: _shows(screen, "🎉 1"), "alice's reaction removed")
        updated = await bob.expect(
            MessageUpdated,
            lambda f: f.message.seq == seq and f.message.reactions[0].users == ["bob"],
        )


async def test_a_refusal_from_the_server_is_a_toast(srv: Running, tmp_path: Path) -> None:
    """bob deletes his message while alice's picker is open: the server refuses
    her reaction and says why."""
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        ack = await post(bob, general, "about to vanish")
        seq = await _shown_seq(pilot, screen, "about to vanish")
        await _select(pilot, screen, seq)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ReactionPicker), "the picker")
        await bob.send(Delete(room=general, seq=ack.seq, rid="d1"))
        await bob.expect(MessageUpdated, lambda f: f.message.seq == seq and f.message.deleted)
        await pilot.press(*"thumbs up", "enter")
        await until(pilot, lambda: len(_toasts(app)) > 0, "a toast")
        assert _toasts(app) == ["no such message in that room"]  # the server's words
    row = await srv.services.db.fetch_one("SELECT count(*) FROM reactions", ())
    assert row[0] == 0


async def test_thread_view_lists_replies_and_follows_new_ones(srv: Running, tmp_path: Path) -> None:
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        parent = await post(bob, general, "release plan?")
        for index, body in enumerate(("monday", "tuesday")):
            await bob.send(
                Send(client_msg_id=f"r{index}", body=body, room=general, reply_to=parent.seq)
            )
        await until(pilot, lambda: _shows(screen, "💬 2 replies"), "the reply count")
        await _select(pilot, screen, parent.seq)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ThreadScreen), "the thread view")
        thread = app.screen
        assert isinstance(thread, ThreadScreen)
        await until(pilot, lambda: _shows(thread, "tuesday"), "the replies")
        bodies = [m.body for m in thread.transcript.messages]
        assert bodies == ["release plan?", "monday", "tuesday"]
        assert not _shows(thread, "↳")  # no quote of the parent under itself
        # alice replies from the thread's composer; bob adds one: both show live.
        assert thread.composer.has_focus
        await pilot.press(*"wednesday", "enter")
        posted = await bob.expect(MessagePosted, lambda f: f.message.author == "alice")
        assert posted.message.reply_to == parent.seq
        await bob.send(Send(client_msg_id="r9", body="thursday", room=general, reply_to=parent.seq))
        await until(pilot, lambda: _shows(thread, "thursday"), "bob's new reply")
        bodies = [m.body for m in thread.transcript.messages]
        assert bodies == ["release plan?", "monday", "tuesday", "wednesday", "thursday"]
        await until(pilot, lambda: _shows(thread, "💬 4 replies"), "the parent's count")
        # The same keys work on a reply in the thread: react to bob's newest.
        await pilot.press("up")
        assert thread.transcript.selected is not None
        assert thread.transcript.selected.body == "thursday"
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ReactionPicker), "the picker")
        await pilot.press("enter")  # the first frequent one: 👍
        reacted = await bob.expect(MessageUpdated, lambda f: f.message.body == "thursday")
        assert [r.emoji for r in reacted.message.reactions] == ["👍"]
        await until(pilot, lambda: _shows(thread, "👍 1"), "the chip in the thread")
        await pilot.press("escape")  # leaves the selection
        assert thread.composer.has_focus
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back to the room")


async def test_selection_moves_and_escape_goes_back_to_writing(
    srv: Running, tmp_path: Path
) -> None:
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        for body in ("one", "two", "three"):
            await post(bob, general, body)
        await _shown_seq(pilot, screen, "three")
        screen.composer.focus()
        await pilot.press("up")
        assert screen.transcript.has_focus
        assert screen.transcript.selected is not None
        assert screen.transcript.selected.body == "three"
        await pilot.press("up", "up")
        assert screen.transcript.selected.body == "one"
        await pilot.press("down")
        assert screen.transcript.selected.body == "two"
        await pilot.press("escape")
        assert screen.composer.has_focus and screen.transcript.selected is None
        await pilot.press("up", "down")  # down past the newest leaves too
        assert screen.composer.has_focus and screen.transcript.selected is None


async def test_mark_unread_from_a_message(srv: Running, tmp_path: Path) -> None:
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        acks = [await post(bob, general, body) for body in ("one", "two", "three")]
        await _shown_seq(pilot, screen, "three")
        await until(
            pilot,
            lambda: screen.room is not None and screen.room.last_read_seq == acks[-1].seq,
            "the room read",
        )
        await _select(pilot, screen, acks[1].seq)
        await pilot.press("u")
        await until(
            pilot,
            lambda: screen.room is not None and screen.room.last_read_seq == acks[0].seq,
            "the read marker moved back",
        )
        assert screen.transcript.unread_seq == acks[1].seq
        await pilot.press("escape")  # back to writing does not read the room again
        await pilot.pause()
        assert screen.room is not None and screen.room.unread == 2
    row = await srv.services.db.fetch_one(
        "SELECT m.last_read_seq FROM members m JOIN users u ON u.id = m.user_id "
        "WHERE u.name = 'alice' AND m.room_id = ?",
        (general,),
    )
    assert row[0] == acks[0].seq


async def test_picker_arrow_keys_pick_from_the_frequent_row(srv: Running, tmp_path: Path) -> None:
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        ack = await post(bob, general, "pick with arrows")
        await _select(pilot, screen, await _shown_seq(pilot, screen, "pick with arrows"))
        await pilot.press("plus")
        await until(pilot, lambda: isinstance(app.screen, ReactionPicker), "the picker")
        await pilot.press("down", "enter")  # the second frequent one: ❤️
        updated = await bob.expect(MessageUpdated, lambda f: f.message.seq == ack.seq)
        assert [r.emoji for r in updated.message.reactions] == ["❤️"]
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ReactionPicker), "the picker")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "closed with nothing")
        assert screen.transcript.has_focus and screen.transcript.selected is not None


async def test_leaving_the_selection_returns_to_the_newest_messages(
    start_server: Callable[..., Awaitable[Running]], tmp_path: Path
) -> None:
    srv = await start_server(**FAST)
    bob, general = await _setup(srv)
    await post_many(bob, general, 40, "line")
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        await _shown_seq(pilot, screen, "line message 39")
        screen.composer.focus()
        await pilot.press("up", *["up"] * 30)
        assert screen.transcript.selected is not None
        assert screen.transcript.selected.body == "line message 9"
        assert not screen.transcript.is_vertical_scroll_end
        await pilot.press("escape")
        await pilot.pause()
        assert screen.transcript.is_vertical_scroll_end
        await post(bob, general, "line 40")
        await until(pilot, lambda: _shows(screen, "line 40"), "the view following again")


async def test_o_downloads_the_selected_file_card(
    start_server: Callable[..., Awaitable[Running]], tmp_path: Path
) -> None:
    srv = await start_server(**FAST)
    bob, general = await _setup(srv)
    report = tmp_path / "report.bin"
    report.write_bytes(bytes(range(256)) * 40)
    async with alice_app(srv, tmp_path) as (app, pilot):
        app.downloads_dir = tmp_path / "downloads"  # type: ignore[attr-defined]
        screen = main_screen(app)
        screen.composer.load_text(f"/upload {report} the numbers")
        screen.composer.focus()
        await pilot.press("enter")
        posted = await bob.expect(MessagePosted, lambda f: f.message.file is not None)
        seq = await _shown_seq(pilot, screen, "the numbers")
        assert _shows(screen, "📎 report.bin · 10 KB · application/octet-stream")
        await post(bob, general, "no file here")
        plain = await _shown_seq(pilot, screen, "no file here")
        await _select(pilot, screen, plain)
        await pilot.press("o")
        await until(pilot, lambda: any("no file" in t for t in _toasts(app)), "a refusal")
        await pilot.press("up")
        assert screen.transcript.selected is not None and screen.transcript.selected.seq == seq
        await pilot.press("o")
        target = tmp_path / "downloads" / "report.bin"
        await until(pilot, target.exists, "the downloaded file")
        await until(pilot, lambda: target.read_bytes() == report.read_bytes(), "every byte")
        assert posted.message.file is not None and posted.message.file.size == 10_240


async def test_a_room_owner_deletes_someone_elses_message(srv: Running, tmp_path: Path) -> None:
    bob, _ = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        assert app.client is not None
        room = await app.client.create_room("alices-room")
        await bob.send(Join(name="alices-room", rid="j1"))
        await until(pilot, lambda: room.id in app.client.state.rooms, "the room")  # type: ignore[union-attr]
        screen.open_room(room.id)
        assert screen.room is not None and screen.room.can_moderate
        ack = await post(bob, room.id, "spam spam spam")
        seq = await _shown_seq(pilot, screen, "spam spam spam")
        await _select(pilot, screen, seq)
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("enter")
        updated = await bob.expect(MessageUpdated, lambda f: f.message.seq == ack.seq)
        assert updated.message.deleted
        await until(pilot, lambda: not _shows(screen, "spam spam spam"), "the tombstone")


async def test_an_empty_edit_saves_nothing_and_escape_cancels_it(
    srv: Running, tmp_path: Path
) -> None:
    bob, general = await _setup(srv)
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        screen.composer.load_text("keep me")
        screen.composer.focus()
        await pilot.press("enter")
        seq = await _shown_seq(pilot, screen, "keep me")
        await _select(pilot, screen, seq)
        await pilot.press("e")
        screen.composer.load_text("   ")
        await pilot.press("enter")  # nothing to save: nothing happens
        await pilot.pause()
        assert screen.actions.mode is not None  # still editing
        await pilot.press("escape")
        assert screen.actions.mode is None and screen.composer.border_title is None
        assert screen.composer.text == ""  # the draft from before the edit (none)
        await pilot.press(*"new text", "enter")  # a new message, not an edit
        posted = await bob.expect(MessagePosted, lambda f: f.message.body == "new text")
        assert posted.message.seq != seq
    row = await srv.services.db.fetch_one(
        "SELECT body, edited_at FROM messages WHERE room_id = ? AND seq = ?", (general, seq)
    )
    assert tuple(row) == ("keep me", None)
