"""Where messages are written: Enter sends, ctrl+j (or alt+enter) starts a new line,
up-arrow in an empty composer picks a message above (``UpFromEmpty``: to reply,
react, edit...), ctrl+up recalls the last message sent, pastes keep their lines.
Tab completes ``:emoji:``, ``@people``, ``#rooms`` and ``/commands``.

The composer only posts messages (``Submitted``, ``Typed``, ``Completing``); the
screen decides what a line means and shows the completion menu.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from tchat_client.tui.complete import Candidate, Completion, complete

__all__ = ["Composer"]

Names = Callable[[], tuple[Iterable[str], Iterable[str]]]
"""Returns (people, rooms) to complete against."""


class Composer(TextArea):
    DEFAULT_CSS = """
    Composer {
        height: auto;
        min-height: 3;
        max-height: 10;
        border: round $primary 40%;
        padding: 0 1;
        background: $surface;
    }
    Composer:focus {
        border: round $primary;
    }
    """

    BINDINGS = [
        Binding("ctrl+j,alt+enter,shift+enter", "newline", "New line", id="composer.newline"),
        Binding("ctrl+up", "recall", "Recall last sent", id="composer.recall", show=False),
    ]

    class UpFromEmpty(Message):
        """Up-arrow in an empty composer: the user wants to pick a message above."""

        def __init__(self, composer: Composer) -> None:
            super().__init__()
            self.composer = composer

    class Submitted(Message):
        """The user pressed Enter on some text."""

        def __init__(self, composer: Composer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

    class Typed(Message):
        """The text changed because the user typed (for typing notifications)."""

    class Completing(Message):
        """The completion menu should show these candidates (none: hide it)."""

        def __init__(self, candidates: tuple[Candidate, ...], index: int) -> None:
            super().__init__()
            self.candidates = candidates
            self.index = index

    def __init__(
        self, *, id: str | None = None, placeholder: str = "", names: Names | None = None
    ) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder=placeholder,
            highlight_cursor_line=False,
        )
        self._sent: list[str] = []
        self._names = names or (lambda: ((), ()))
        self._completion: Completion | None = None
        self._choice = 0

    def remember(self, text: str) -> None:
        """Keep a sent message for up-arrow recall."""
        self._sent.append(text)
        del self._sent[:-50]

    async def _on_key(self, event: events.Key) -> None:
        if self._completion is not None and event.key in {"tab", "enter", "up", "down", "escape"}:
            event.stop()
            event.prevent_default()
            if event.key in {"tab", "enter"}:
                self._accept()
            elif event.key == "escape":
                self._set_completion(None)
            else:
                step = 1 if event.key == "down" else -1
                self._choice = (self._choice + step) % len(self._completion.candidates)
                self.post_message(self.Completing(self._completion.candidates, self._choice))
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                self.post_message(self.Submitted(self, text))
            return
        if event.key == "up" and not self.text:
            event.stop()
            event.prevent_default()
            self.post_message(self.UpFromEmpty(self))
            return
        await super()._on_key(event)
        if event.is_printable or event.key == "backspace":
            self.post_message(self.Typed())
            self._update_completion()

    def on_text_area_changed(self) -> None:
        if not self.text:
            self._set_completion(None)

    def _before_cursor(self) -> str:
        row, column = self.cursor_location
        return self.document.get_line(row)[:column]

    def _update_completion(self) -> None:
        people, rooms = self._names()
        self._set_completion(complete(self._before_cursor(), people=people, rooms=rooms))

    def _set_completion(self, completion: Completion | None) -> None:
        if completion is None and self._completion is None:
            return
        self._completion = completion
        self._choice = 0
        self.post_message(self.Completing(completion.candidates if completion else (), 0))

    def _accept(self) -> None:
        completion = self._completion
        if completion is None:
            return
        candidate = completion.candidates[self._choice]
        row, column = self.cursor_location
        self.replace(candidate.insert, (row, completion.start), (row, column))
        self._set_completion(None)

    def action_recall(self) -> None:
        if self._sent:
            self.load_text(self._sent[-1])
            self.move_cursor(self.document.end)

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end)
        self._set_completion(None)
