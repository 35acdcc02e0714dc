"""The transcript showing what changes after a message is stored (replace), system
notices (add_notice) and the selection, driven headless through Pilot."""

from __future__ import annotations

from dataclasses import replace

from tchat_client.core.models import FileCard, ReactionCount, ReplyPreview
from tchat_client.tui.model import ShownMessage
from tchat_client.tui.widgets.transcript import Transcript
from tchat_client.tui.widgets.transcript_extras import human_size
from tchat_client.tui.widgets.transcript_select import Acted
from tests.tui.transcript_app import TranscriptApp, msg, screen_text

SIZE = (80, 24)


def many(count: int) -> list[ShownMessage]:
    return [
        msg(seq, f"user{seq % 3}", f"message {seq}", (count - seq) * 60.0)
        for seq in range(1, count + 1)
    ]


def rows(lines: list[str]) -> dict[str, int]:
    return {line.strip(): row for row, line in enumerate(lines) if "message " in line}


async def test_replace_shows_an_edit_a_tombstone_and_reactions() -> None:
    app = TranscriptApp(many(5))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        four = transcript.messages[3]
        assert transcript.replace(replace(four, body="message four", edited=True))
        await pilot.pause()
        assert "message four (edited)" in [line.strip() for line in screen_text(transcript)]
        reacted = (ReactionCount("👍", ("me", "bob")), ReactionCount("🎉", ("bob",)))
        transcript.replace(replace(transcript.messages[4], reactions=reacted, reply_count=3))
        await pilot.pause()
        text = "\n".join(screen_text(transcript))
        assert "👍 2" in text and "🎉 1" in text and "💬 3 replies" in text
        transcript.replace(replace(transcript.messages[2], body="", deleted=True))
        await pilot.pause()
        lines = [line.strip() for line in screen_text(transcript)]
        assert "message deleted" in lines and "message 3" not in lines
        assert not transcript.replace(msg(99, "nobody", "not shown"))


async def test_replace_while_scrolled_up_keeps_the_view_still() -> None:
    app = TranscriptApp(many(200))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        transcript.scroll_to(y=transcript.scroll_offset.y - 40, animate=False)
        await pilot.pause()
        before = rows(screen_text(transcript))
        first = min(before, key=before.__getitem__)
        seq = int(first.split()[1])
        # A message above the view grows by three lines: what is in view stays put.
        above = transcript.messages[seq - 5]
        reacted = (ReactionCount("👍", ("bob",)),)
        transcript.replace(replace(above, reactions=reacted, reply_count=2, body="a\nb\nc"))
        await pilot.pause()
        assert rows(screen_text(transcript)) == before


async def test_reply_quotes_follow_the_parent_and_are_never_markup() -> None:
    parent = msg(1, "bob", "[bold]not markup[/bold] \x1b[2J", 120)
    quote = ReplyPreview(1, "bob", parent.body)
    reply = replace(msg(2, "carol", "answer", 60), reply_to=1, reply=quote)
    app = TranscriptApp([parent, reply])
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        assert "↳ bob: [bold]not markup[/bold] ␛[2J" in [
            line.strip() for line in screen_text(transcript)
        ]
        transcript.replace(replace(parent, body="", deleted=True))
        await pilot.pause()
        lines = [line.strip() for line in screen_text(transcript)]
        assert "↳ deleted message" in lines


async def test_file_card_and_size() -> None:
    card = FileCard(3, "report\x1b].pdf", 1_258_291, "application/pdf")
    app = TranscriptApp([replace(msg(1, "bob", "", 60), file=card)])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = [line.strip() for line in screen_text(app.transcript)]
        assert "📎 report␛].pdf · 1.2 MB · application/pdf" in lines
    assert [human_size(n) for n in (0, 532, 2048, 15_000_000)] == [
        "0 B",
        "532 B",
        "2.0 KB",
        "14 MB",
    ]


async def test_a_notice_sits_after_the_messages_shown_and_before_pending_ones() -> None:
    pending = msg(None, "me", "still sending", 0, client_msg_id="p1", state="queued")
    app = TranscriptApp([*many(3), pending])
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        transcript.add_notice("bob was muted by alice for 10m", transcript.messages[2].ts)
        transcript.append(msg(4, "zed", "message 4", 0))
        await pilot.pause()
        bodies = [m.body for m in transcript.messages]
        assert bodies == [
            "message 1",
            "message 2",
            "message 3",
            "bob was muted by alice for 10m",
            "message 4",
            "still sending",
        ]
        lines = [line.strip() for line in screen_text(transcript)]
        assert any(line.endswith("bob was muted by alice for 10m") for line in lines)
        notice = transcript.messages[3]
        assert not notice.actionable and not notice.pending


async def test_selection_moves_and_asks_for_actions() -> None:
    app = TranscriptApp(many(30))
    acted: list[tuple[str, int | None]] = []
    seen: list[Acted] = []

    def hook(message: object) -> None:
        # A message bubbling up is seen at each node it reaches: count it once.
        if isinstance(message, Acted) and not any(m is message for m in seen):
            seen.append(message)
            acted.append((message.action, message.message.seq))

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        transcript = app.transcript
        transcript.focus()
        await pilot.pause()
        await pilot.press("up")
        assert transcript.selected is not None and transcript.selected.seq == 30
        for _ in range(25):
            await pilot.press("up")
        assert transcript.selected.seq == 5
        assert "message 5" in "\n".join(screen_text(transcript))  # scrolled into view
        await pilot.press("r", "t", "e", "d", "a", "u", "o")
        await pilot.pause()
        actions = ["reply", "thread", "edit", "delete", "react", "unread", "open"]
        assert acted == [(action, 5) for action in actions]
        await pilot.press("escape")
        assert transcript.selected is None
        await pilot.press("r")  # nothing selected: nothing asked
        await pilot.pause()
        assert len(acted) == len(actions)


async def test_a_click_selects_the_message_under_the_pointer() -> None:
    app = TranscriptApp(many(30))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        row = screen_text(transcript).index("       message 28")
        await pilot.click(Transcript, offset=(12, row))
        assert transcript.selected is not None and transcript.selected.seq == 28
        assert transcript.has_focus


async def test_a_picked_message_shows_who_reacted() -> None:
    """Chips only count; picking the message names the people, in reaction order."""
    app = TranscriptApp(many(5))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        reacted = (ReactionCount("👍", ("carol", "bob")), ReactionCount("🎉", ("dave",)))
        transcript.replace(replace(transcript.messages[4], reactions=reacted))
        await pilot.pause()
        assert "carol, bob" not in "\n".join(screen_text(transcript))
        transcript.select(5)
        await pilot.pause()
        lines = [line.strip() for line in screen_text(transcript)]
        assert "👍 carol, bob · 🎉 dave" in lines
        transcript.select(None)
        await pilot.pause()
        assert "👍 carol, bob · 🎉 dave" not in [line.strip() for line in screen_text(transcript)]
