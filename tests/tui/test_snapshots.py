"""A picture of the transcript, compared with pytest-textual-snapshot.

Update after an intended change with ``pytest tests/tui --snapshot-update``, and
look at the new SVG before committing it.
"""

from __future__ import annotations

from typing import Any

from tests.tui.transcript_app import DAY, HOUR, TranscriptApp, msg

CONVERSATION = [
    msg(1, "carol", "standup in 5, **don't** be late", DAY + 2 * HOUR),
    msg(2, "carol", "agenda: [the doc](https://example.org/agenda)", DAY + 2 * HOUR - 30),
    msg(3, "alice", "@me can you review `sanitize.py`? it turns `\x1b[2J` into ␛", HOUR),
    msg(4, "me", "sure, on it :eyes:", HOUR - 60, client_msg_id="c4", state="read"),
    msg(
        5,
        "bob",
        "the fix:\n```python\ndef visible(text: str) -> str:\n    return text  # TODO\n```",
        50 * 60,
    ),
    msg(6, "bob", "> is [/bold] safe?\nyes, it shows literally", 49 * 60),
    msg(7, "dave", "~~old~~ new plan: ship *today* :tada:", 10 * 60),
    msg(8, "me", "ok!", 5 * 60, client_msg_id="c8", state="delivered"),
    msg(None, "me", "sending this one…", 10, client_msg_id="p9", state="queued"),
]


def test_transcript_snapshot(snap_compare: Any) -> None:
    assert snap_compare(TranscriptApp(CONVERSATION, unread=7), terminal_size=(80, 24))
