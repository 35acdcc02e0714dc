"""The Transcript widget, driven headless through Pilot."""

from __future__ import annotations

from tchat_client.tui.model import ShownMessage
from tchat_client.tui.widgets.transcript import Transcript
from tests.tui.transcript_app import DAY, HOUR, TranscriptApp, msg, screen_text, strips

SIZE = (80, 24)


def many(count: int, start: int = 1) -> list[ShownMessage]:
    """``count`` messages a minute apart, from alternating authors, ending at NOW."""
    return [
        msg(seq, f"user{seq % 3}", f"message {seq}", (start + count - 1 - seq) * 60.0)
        for seq in range(start, start + count)
    ]


def body_rows(lines: list[str]) -> dict[str, int]:
    """Screen row of each "message N" line."""
    return {line.strip(): row for row, line in enumerate(lines) if "message " in line}


async def test_ten_thousand_messages_show_the_newest_at_the_bottom() -> None:
    app = TranscriptApp(many(10_000))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = screen_text(app.transcript)
        assert lines[-1].strip() == "message 10000"
        assert "message 9999" in "\n".join(lines)
        assert app.transcript.is_vertical_scroll_end
        painted = sum(1 for entry in app.transcript._rows.entries if entry.width)
        assert painted < 100  # only what is in view (and a screen above) was painted


async def test_append_follows_at_the_bottom_and_stays_put_when_scrolled_up() -> None:
    app = TranscriptApp(many(200))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        transcript.append(msg(201, "zed", "message 201"))
        await pilot.pause()
        assert screen_text(transcript)[-1].strip() == "message 201"

        transcript.scroll_to(y=transcript.scroll_offset.y - 30, animate=False)
        await pilot.pause()
        before = screen_text(transcript)
        transcript.append(msg(202, "zed", "message 202"))
        await pilot.pause()
        assert screen_text(transcript) == before

        transcript.scroll_end(animate=False)
        await pilot.pause()
        transcript.append(msg(203, "zed", "message 203"))
        await pilot.pause()
        assert screen_text(transcript)[-1].strip() == "message 203"


async def test_prepend_keeps_the_first_visible_message_in_place() -> None:
    app = TranscriptApp(many(300, start=301))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        transcript.scroll_home(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert app.older_requests == [301]
        before = body_rows(screen_text(transcript))
        assert "message 301" in before

        transcript.prepend(many(300, start=1), more=False)
        await pilot.pause()
        after = body_rows(screen_text(transcript))
        assert after == before
        assert transcript.scroll_offset.y > 0

        # Scrolling up now reveals the older messages, in order, without jumps.
        transcript.scroll_up(animate=False)
        transcript.scroll_up(animate=False)
        transcript.scroll_up(animate=False)
        await pilot.pause()
        lines = screen_text(transcript)
        rows = body_rows(lines)
        assert rows["message 301"] == before["message 301"] + 3
        assert rows["message 300"] < rows["message 301"]

        transcript.scroll_home(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert app.older_requests == [301]  # more=False: nothing older to ask for
        assert "message 1" in body_rows(screen_text(transcript))


async def test_grouping_and_day_separators() -> None:
    app = TranscriptApp(
        [
            msg(1, "alice", "three days ago", 3 * DAY),
            msg(2, "bob", "yesterday", DAY + HOUR),
            msg(3, "bob", "a minute later", DAY + HOUR - 60),
            msg(4, "bob", "much later, new group", DAY),
            msg(5, "alice", "today", HOUR),
            msg(6, "carol", "hello", 120),
        ]
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = [line for line in screen_text(app.transcript) if line]
        assert text == [
            "─" * 33 + " Mon 23 Nov " + "─" * 33,
            "15:00  alice",
            "       three days ago",
            "─" * 33 + " Yesterday " + "─" * 34,
            "14:00  bob",
            "       yesterday",
            "       a minute later",
            "15:00  bob",
            "       much later, new group",
            "─" * 35 + " Today " + "─" * 36,
            "14:00  alice",
            "       today",
            "14:58  carol",
            "       hello",
        ]


async def test_injection_payloads_render_inert() -> None:
    payloads = [
        "\x1b]0;pwned\x07",
        "\x1b]52;c;aGVsbG8=\x07",
        "\x1b[2J",
        "\x9b31m",
        "bell\x07",
        "over\rwrite",
        "\u202eevil",
        "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
        '\x1bP$q"p\x1b\\',
        "a" + "\u200d" * 10_000,
        "e" + "\u0301" * 500,
        "[/bold] [link=https://evil.example]x[/link]",
        "**[/bold]** `\x1b[2J` &#27;[2J",
    ]
    app = TranscriptApp(
        msg(i, "\x1b[31mmal\nlory\x07", p, 100 - i) for i, p in enumerate(payloads, 1)
    )
    async with app.run_test(size=(80, 60)) as pilot:
        await pilot.pause()
        rendered = strips(app.transcript)
        for strip in rendered:
            for segment in strip:
                assert not any(
                    ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in "\u202e"
                    for ch in segment.text
                ), repr(segment.text)
                assert segment.style is None or not segment.style.link
        text = "\n".join(screen_text(app.transcript))
        assert "[/bold] [link=https://evil.example]x[/link]" in text
        assert "␛[31mmal␤lory␇" in text
        assert "␛]0;pwned␇" in text


async def test_markdown_bold_and_emoji() -> None:
    app = TranscriptApp([msg(1, "alice", "this is **loud** :tada:")])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        segments = [s for strip in strips(app.transcript) for s in strip]
        loud = [s for s in segments if "loud" in s.text]
        assert loud and loud[0].style is not None and loud[0].style.bold
        assert "🎉" in "".join(s.text for s in segments)


async def test_delivery_glyph_follows_set_state() -> None:
    pending = msg(None, "me", "on its way", 5, client_msg_id="c1", state="queued")
    app = TranscriptApp([msg(1, "alice", "hi", 60), pending])
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        last = screen_text(transcript)[-1]
        assert last.strip().startswith("on its way") and last.endswith(" ◷")

        # The stored version replaces the pending one and is at least "sent".
        transcript.append(msg(2, "me", "on its way", 5, client_msg_id="c1"))
        await pilot.pause()
        assert screen_text(transcript)[-1].endswith("✓")
        assert [m.seq for m in transcript.messages] == [1, 2]
        assert transcript.messages[-1].state == "sent"

        transcript.set_state("c1", "read")
        await pilot.pause()
        read_line = strips(transcript)[-1]
        assert read_line.text.rstrip().endswith("✓✓")
        read_style = next(s.style for s in read_line if "✓✓" in s.text)
        transcript.set_state("c1", "delivered")
        await pilot.pause()
        delivered_style = next(s.style for s in strips(transcript)[-1] if "✓✓" in s.text)
        assert read_style != delivered_style


async def test_pending_messages_stay_last_in_order() -> None:
    app = TranscriptApp([msg(1, "alice", "first", 60)])
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        transcript.append(msg(None, "me", "pending one", 30, client_msg_id="p1", state="queued"))
        transcript.append(msg(None, "me", "pending two", 20, client_msg_id="p2", state="queued"))
        transcript.append(msg(2, "bob", "meanwhile", 10))
        await pilot.pause()
        assert [m.body for m in transcript.messages] == [
            "first",
            "meanwhile",
            "pending one",
            "pending two",
        ]
        lines = [line.strip() for line in screen_text(transcript) if line]
        assert lines[-2].startswith("pending one") and lines[-1].startswith("pending two")


async def test_unread_marker_and_jump() -> None:
    app = TranscriptApp(many(500), unread=250)
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        assert not any("new" in line for line in screen_text(transcript))
        assert transcript.jump_to_unread()
        await pilot.pause()
        lines = screen_text(transcript)
        marker = next(row for row, line in enumerate(lines) if line.endswith(" new ──"))
        assert marker <= 3
        assert "message 250" in lines[marker + 2]
        assert "message 249" in "\n".join(lines[:marker])

        transcript.set_unread_marker(None)
        await pilot.pause()
        assert not any(line.endswith(" new ──") for line in screen_text(transcript))
        assert not transcript.jump_to_unread()


async def test_resize_rewraps_and_keeps_the_bottom() -> None:
    long = " ".join(f"word{i}" for i in range(60))
    app = TranscriptApp([*many(50), msg(51, "alice", long)])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        wide = screen_text(app.transcript)
        await pilot.resize_terminal(40, 24)
        await pilot.pause()
        narrow = screen_text(app.transcript)
        assert narrow != wide
        assert narrow[-1].strip().endswith("word59")
        assert all(len(line) <= 40 for line in narrow)


async def test_needs_older_names_the_first_seq() -> None:
    app = TranscriptApp(many(3, start=41))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert app.older_requests == [41]
        message = Transcript.NeedsOlder(app.transcript, 41)
        assert message.control is app.transcript


async def test_repeats_are_ignored() -> None:
    app = TranscriptApp([msg(1, "alice", "one", 60), msg(2, "me", "two", 30, client_msg_id="c2")])
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        transcript.extend([msg(1, "alice", "one", 60), msg(2, "me", "two", 30)])
        transcript.append(msg(None, "me", "two", 30, client_msg_id="c2", state="queued"))
        await pilot.pause()
        assert [m.seq for m in transcript.messages] == [1, 2]


async def test_out_of_order_and_gap_filling_messages_land_in_seq_order() -> None:
    app = TranscriptApp([msg(1, "a", "message 1", 300), msg(5, "a", "message 5", 100)])
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        transcript.extend([msg(3, "b", "message 3", 200), msg(2, "c", "message 2", 250)])
        await pilot.pause()
        assert [m.seq for m in transcript.messages] == [1, 2, 3, 5]
        rows = body_rows(screen_text(transcript))
        assert rows["message 1"] < rows["message 2"] < rows["message 3"] < rows["message 5"]


def uneven(count: int) -> TranscriptApp:
    """An app with messages of very different heights, so estimates are wrong."""
    bodies = ["short", "x " * 120, "**a**\n- b\n- c\n```\ncode\n```", "y" * 300, "> q\n\nz"]
    return TranscriptApp(
        msg(seq, f"user{seq % 4}", f"message {seq} " + bodies[seq * 7 % 5], (count - seq) * 400.0)
        for seq in range(1, count + 1)
    )


async def test_page_up_through_unpainted_history_moves_exactly_one_page() -> None:
    app = uneven(1500)
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        transcript.focus()
        await pilot.pause()
        rows = transcript._rows
        for _ in range(3):
            top = transcript.scroll_offset.y
            entry = rows.entries[rows.locate(top)]
            row = rows.offsets[rows.index_of(entry)] - top
            await pilot.press("pageup")
            await pilot.wait_for_scheduled_animations()
            await pilot.pause()
            moved = rows.offsets[rows.index_of(entry)] - transcript.scroll_offset.y - row
            assert moved == transcript.scrollable_content_region.height


async def test_scrolling_through_unpainted_history_never_jumps() -> None:
    """Line by line, up and down, through messages whose estimated heights are
    wrong: every step moves the picture by exactly one row."""
    app = uneven(1500)
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        for where in (0.8, 0.5, 0.1):
            y = int(transcript.max_scroll_y * where)
            transcript.scroll_to(y=y, animate=False)
            await pilot.pause()
            before = screen_text(transcript)
            assert any("message" in line for line in before)
            for step in range(12):
                transcript.scroll_up(animate=False)
                await pilot.pause()
                after = screen_text(transcript)
                assert after[1:] == before[:-1], f"jump at {y} after {step} steps up"
                before = after
            for step in range(6):
                transcript.scroll_down(animate=False)
                await pilot.pause()
                after = screen_text(transcript)
                assert after[:-1] == before[1:], f"jump at {y} after {step} steps down"
                before = after


async def test_clear_then_reload() -> None:
    app = TranscriptApp(many(30), unread=20)
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        transcript.clear()
        await pilot.pause()
        assert transcript.messages == [] and transcript.unread_seq is None
        assert not any(screen_text(transcript))
        transcript.extend(many(5, start=100))
        await pilot.pause()
        assert screen_text(transcript)[-1].strip() == "message 104"


async def test_a_following_view_stays_at_the_bottom_when_it_shrinks() -> None:
    """A banner or the typing line appearing must not leave the newest lines hidden."""
    messages = [
        msg(i, "alice", f"message {i}\nsecond line", ago=3600 - i * 60) for i in range(1, 40)
    ]
    app = TranscriptApp(messages)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        transcript = app.transcript
        assert transcript.scroll_y == transcript.max_scroll_y
        transcript.styles.height = 18
        await pilot.pause()
        await pilot.pause()
        assert transcript.scroll_y == transcript.max_scroll_y > 0
        transcript.scroll_to(y=0, animate=False)
        await pilot.pause()
        transcript.styles.height = 16
        await pilot.pause()
        await pilot.pause()
        assert transcript.scroll_y == 0, "a view the user scrolled up stays put"
