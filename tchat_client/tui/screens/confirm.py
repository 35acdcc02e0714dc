"""A yes/no question in a small modal (``y``/Enter: yes, ``n``/Escape: no), for
actions that cannot be undone, such as deleting a message."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["ConfirmScreen"]


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (yes) or False (no)."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen > Vertical {
        width: 56;
        max-width: 95%;
        height: auto;
        border: round $error;
        background: $surface;
        padding: 1 2;
    }
    ConfirmScreen .confirm-question {
        text-style: bold;
    }
    ConfirmScreen .confirm-detail {
        color: $text-muted;
        margin-top: 1;
    }
    ConfirmScreen .confirm-keys {
        margin-top: 1;
        color: $text-muted;
    }
    """

    def __init__(self, question: str, detail: Text | None = None) -> None:
        """``detail`` is shown as given: build it from user text with ``Text``."""
        super().__init__()
        self._question = question
        self._detail = detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._question), classes="confirm-question")
            if self._detail is not None:
                yield Static(self._detail, classes="confirm-detail")
            keys = Text()
            keys.append("y", style="bold")
            keys.append(" / Enter: yes    ")
            keys.append("n", style="bold")
            keys.append(" / Esc: no")
            yield Static(keys, classes="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
