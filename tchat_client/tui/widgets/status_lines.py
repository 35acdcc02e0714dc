"""One-line widgets under and over the transcript: who is typing, and the offline
banner with its countdown."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from tchat_client.sanitize import visible_line
from tchat_client.tui.phrases import offline_text, typing_text

__all__ = ["OfflineBanner", "TypingLine"]


class TypingLine(Static):
    DEFAULT_CSS = """
    TypingLine {
        height: 1;
        padding: 0 2;
        color: $text-muted;
        text-style: italic;
    }
    """

    def show(self, users: Sequence[str]) -> None:
        self.update(Text(typing_text([visible_line(u) for u in users])))


class OfflineBanner(Static):
    """Hidden while connected; otherwise says what is happening and counts down."""

    DEFAULT_CSS = """
    OfflineBanner {
        height: 1;
        padding: 0 1;
        background: $warning 30%;
        color: $text;
        text-style: bold;
        display: none;
    }
    OfflineBanner.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._status = "connected"
        self._retry_at: float | None = None
        self._queued = 0
        self._detail = ""
        self._ticker: Timer | None = None

    def on_mount(self) -> None:
        self._ticker = self.set_interval(1.0, self._refresh_text, pause=True)

    def show(self, status: str, retry_in: float | None, detail: str = "") -> None:
        self._status = status
        self._detail = detail
        self._retry_at = time.monotonic() + retry_in if retry_in is not None else None
        shown = status != "connected"
        self.set_class(shown, "-shown")
        if self._ticker is not None:
            if shown:
                self._ticker.resume()
            else:
                self._ticker.pause()
        self._refresh_text()

    def set_queued(self, queued: int) -> None:
        self._queued = queued
        self._refresh_text()

    def _refresh_text(self) -> None:
        retry_in = None if self._retry_at is None else max(0.0, self._retry_at - time.monotonic())
        self.update(Text(offline_text(self._status, retry_in, self._queued, self._detail)))
