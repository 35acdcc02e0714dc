"""The little menu over the composer listing completion candidates."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tchat_client.tui.complete import Candidate

__all__ = ["CompletionMenu"]


class CompletionMenu(OptionList, can_focus=False):
    DEFAULT_CSS = """
    CompletionMenu {
        display: none;
        height: auto;
        max-height: 10;
        width: 60;
        max-width: 100%;
        border: round $accent;
        background: $surface;
        padding: 0;
    }
    CompletionMenu.-shown {
        display: block;
    }
    """

    def show(self, candidates: tuple[Candidate, ...], index: int) -> None:
        self.set_class(bool(candidates), "-shown")
        if not candidates:
            return
        self.set_options(Option(Text(c.label)) for c in candidates)
        self.highlighted = index
