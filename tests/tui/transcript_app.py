"""A tiny app holding one Transcript, with a frozen clock, for tests and the bench."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from textual.app import App, ComposeResult
from textual.strip import Strip

from tchat_client.tui.model import DeliveryState, ShownMessage
from tchat_client.tui.widgets.transcript import Transcript

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC).timestamp()
"""Thursday 26 Nov 2026, 15:00 UTC: "now" for every test."""

HOUR = 3600.0
DAY = 86400.0


def msg(
    seq: int | None,
    author: str,
    body: str,
    ago: float = 0.0,
    *,
    client_msg_id: str | None = None,
    state: DeliveryState | None = None,
) -> ShownMessage:
    """A message in room 1 written ``ago`` seconds before ``NOW``."""
    return ShownMessage(
        room=1,
        seq=seq,
        id=seq,
        author=author,
        body=body,
        ts=NOW - ago,
        client_msg_id=client_msg_id,
        state=state,
    )


class TranscriptApp(App[None]):
    """One transcript filling the screen, as user ``me``, in UTC, at ``NOW``."""

    def __init__(self, messages: Iterable[ShownMessage] = (), *, unread: int | None = None) -> None:
        super().__init__()
        self.initial = list(messages)
        self.unread = unread
        self.older_requests: list[int | None] = []

    def compose(self) -> ComposeResult:
        yield Transcript(me="me", now=lambda: NOW, tz=UTC)

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    def on_mount(self) -> None:
        self.transcript.extend(self.initial)
        if self.unread is not None:
            self.transcript.set_unread_marker(self.unread)

    def on_transcript_needs_older(self, message: Transcript.NeedsOlder) -> None:
        self.older_requests.append(message.before_seq)


def strips(transcript: Transcript) -> list[Strip]:
    """The transcript's visible lines, as it renders them."""
    height = transcript.scrollable_content_region.height
    return [transcript.render_line(y) for y in range(height)]


def screen_text(transcript: Transcript) -> list[str]:
    """The transcript's visible lines as plain text, trailing spaces removed."""
    return ["".join(s.text for s in strip).rstrip() for strip in strips(transcript)]
