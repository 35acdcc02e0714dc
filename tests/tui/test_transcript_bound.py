"""The transcript's memory stays bounded (issue #7): while it follows new messages,
past ``Transcript.MAX_SHOWN`` entries the oldest go; scrolled up, nothing goes until
the view is back at the bottom; the top then pages the dropped history in again.
Driven headless through Pilot."""

from __future__ import annotations

from tchat_client.tui.model import ShownMessage
from tchat_client.tui.widgets.transcript import Transcript
from tchat_client.tui.widgets.transcript_entries import Entry
from tests.tui.transcript_app import TranscriptApp, msg, screen_text

SIZE = (80, 24)
LAST = 10_000
CAP = Transcript.MAX_SHOWN
KEPT = Transcript.TRIM_TO


def page(start: int, count: int) -> list[ShownMessage]:
    """Messages ``start``.. six seconds apart, the last of all (``LAST``) at NOW."""
    return [
        msg(seq, f"user{seq % 3}", f"message {seq}", (LAST - seq) * 6.0)
        for seq in range(start, start + count)
    ]


def seqs(transcript: Transcript) -> list[int | None]:
    return [m.seq for m in transcript.messages]


def consistent(transcript: Transcript) -> None:
    """Line totals agree with the entries, and the seqs run unbroken."""
    rows = transcript._rows
    assert len(rows.offsets) == len(rows.entries) + 1
    assert rows.total == sum(entry.height for entry in rows.entries)
    assert transcript.virtual_size.height == rows.total
    shown = seqs(transcript)
    first = shown[0]
    assert first is not None and shown == list(range(first, first + len(shown)))


async def test_following_ten_thousand_appends_keeps_at_most_the_cap() -> None:
    app = TranscriptApp()
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        early: list[Entry] = []
        for start in range(1, LAST + 1, 100):
            transcript.extend(page(start, 100))
            await pilot.pause()
            if start == 101:  # painted entries, soon to be dropped
                early = [e for e in transcript._rows.entries if e.strips]
            assert len(transcript.messages) <= CAP
            assert transcript.is_vertical_scroll_end
        assert early
        assert all(not e.strips for e in early)
        assert not any(e in transcript._rows.entries for e in early)
        lines = screen_text(transcript)
        assert lines[-1].strip() == "message 10000"
        assert transcript.scroll_y == transcript.max_scroll_y > 0
        assert KEPT <= len(transcript.messages) <= CAP
        assert seqs(transcript)[-1] == LAST
        consistent(transcript)
        assert len(transcript._rows._by_seq) == len(transcript.messages)


async def test_scrolled_up_nothing_goes_until_back_at_the_bottom() -> None:
    app = TranscriptApp(page(1, 2900))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        transcript.scroll_to(y=transcript.scroll_offset.y - 30, animate=False)
        await pilot.pause()
        before = screen_text(transcript)
        for start in range(2901, 4901, 100):
            transcript.extend(page(start, 100))
            await pilot.pause()
        assert len(transcript.messages) == 4900  # nothing dropped while reading
        assert screen_text(transcript) == before  # and the view stayed put
        assert seqs(transcript)[0] == 1

        transcript.scroll_end(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert len(transcript.messages) == KEPT
        assert seqs(transcript)[0] == 4900 - KEPT + 1
        assert screen_text(transcript)[-1].strip() == "message 4900"
        assert transcript.is_vertical_scroll_end
        consistent(transcript)


async def test_after_a_trim_the_top_pages_older_history_in_again() -> None:
    app = TranscriptApp(page(1, 4000))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        first = 4000 - KEPT + 1
        assert seqs(transcript)[0] == first
        assert app.older_requests == []  # the top is far away

        transcript.scroll_home(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert app.older_requests == [first]
        transcript.prepend(page(first - 100, 100), more=True)
        await pilot.pause()
        assert seqs(transcript)[0] == first - 100
        consistent(transcript)
        assert transcript.scroll_offset.y > 0  # the view stayed on what it showed

        transcript.scroll_home(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert app.older_requests == [first, first - 100]


async def test_the_answer_to_a_request_made_before_a_trim_leaves_no_gap() -> None:
    app = TranscriptApp(page(996, 5))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        await pilot.pause()
        assert app.older_requests == [996]  # the top is in view: a page is asked for
        transcript.extend(page(1001, 3000))  # ...and a flood arrives meanwhile
        await pilot.pause()
        first = 4000 - KEPT + 1
        assert seqs(transcript)[0] == first

        # The page that answers the old request lies below what was dropped.
        transcript.prepend(page(896, 100), more=True)
        await pilot.pause()
        assert seqs(transcript)[0] == first
        consistent(transcript)

        # Scrolling to the top asks again, from where the transcript now starts.
        transcript.scroll_home(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert app.older_requests == [996, first]
        transcript.prepend(page(first - 100, 100), more=True)
        await pilot.pause()
        assert seqs(transcript)[0] == first - 100
        consistent(transcript)


async def test_history_thought_complete_is_asked_for_again_after_a_trim() -> None:
    app = TranscriptApp(page(1, 100))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        transcript.has_older = False  # the screen: seq 1 is loaded
        await pilot.pause()
        transcript.extend(page(101, 3000))
        await pilot.pause()
        transcript.has_older = False  # the screen may say so again after the trim
        transcript.scroll_home(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert app.older_requests[-1] == 3100 - KEPT + 1


async def test_the_selection_and_unread_marker_survive_or_go_with_their_message() -> None:
    app = TranscriptApp(page(1, 2900))
    async with app.run_test(size=SIZE) as pilot:
        transcript = app.transcript
        await pilot.pause()
        transcript.set_unread_marker(2890)
        transcript.select(2895)
        await pilot.pause()
        assert transcript.is_vertical_scroll_end
        transcript.extend(page(2901, 500))
        await pilot.pause()
        assert seqs(transcript)[0] == 3400 - KEPT + 1  # trimmed
        selected = transcript.selected
        assert selected is not None and selected.seq == 2895
        assert transcript.unread_seq == 2890
        transcript.scroll_to_seq(2889)
        await pilot.pause()
        assert "new" in "\n".join(screen_text(transcript))

        # Picking an old message scrolls up to it; back at the bottom, the flood
        # drops it, its selection and the marker above it.
        transcript.select(950)
        await pilot.pause()
        assert not transcript.is_vertical_scroll_end
        transcript.set_unread_marker(950)
        transcript.scroll_end(animate=False)
        await pilot.pause()
        transcript.extend(page(3401, 1000))
        await pilot.pause()
        assert seqs(transcript)[0] == 4400 - KEPT + 1
        assert transcript.selected is None
        assert transcript.unread_seq is None
        assert not any(" new " in line for line in screen_text(transcript))
        assert screen_text(transcript)[-1].strip() == "message 4400"
        transcript.action_select(-1)  # picking starts again from the newest
        selected = transcript.selected
        assert selected is not None and selected.seq == 4400
