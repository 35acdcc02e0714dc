"""One-line widgets under and over the transcript: who is typing, the offline
banner with its countdown, and the hint over the composer (transfers in progress,
why one cannot post here)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from tchat_client.sanitize import visible_line
from tchat_client.tui.phrases import offline_text, typing_text

__all__ = ["HintLine", "OfflineBanner", "TypingLine"]


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


class HintLine(Static):
    """Over the composer: a line per transfer in progress, then the room's posting
    hint ("A moderator muted you here…"). Hidden when there is nothing to say."""

    COMPONENT_CLASSES = {"hint-line--progress", "hint-line--why"}

    DEFAULT_CSS = """
    HintLine {
        height: auto;
        max-height: 4;
        padding: 0 2;
        display: none;
        & > .hint-line--progress { color: $text-primary; }
        & > .hint-line--why { color: $text-warning; text-style: italic; }
    }
    HintLine.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._progress: dict[str, str] = {}
        self._hint = ""

    @property
    def text(self) -> str:
        """What the line says now (for tests and screen readers)."""
        return "\n".join([*self._progress.values(), self._hint]).strip()

    def set_hint(self, hint: str) -> None:
        self._hint = hint
        self._show()

    def set_progress(self, key: str, text: str | None) -> None:
        """Show (or with None, remove) one transfer's progress line."""
        if text is None:
            self._progress.pop(key, None)
        else:
            self._progress[key] = text
        self._show()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self._show()  # the theme's colours, again

    def _show(self) -> None:
        line = Text()
        progress_style = self.get_component_rich_style("hint-line--progress", partial=True)
        for progress in self._progress.values():
            if line:
                line.append("\n")
            line.append(visible_line(progress), style=progress_style)
        if self._hint:
            if line:
                line.append("\n")
            line.append(
                self._hint, style=self.get_component_rich_style("hint-line--why", partial=True)
            )
        self.set_class(bool(line), "-shown")
        self.update(line)
