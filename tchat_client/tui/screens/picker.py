"""The shape the quick switcher and search share: a modal with an input over an
option list, where up/down move the highlight and Escape closes with nothing."""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import OptionList

__all__ = ["PickerScreen"]

T = TypeVar("T")


class PickerScreen(ModalScreen[T | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Close", id="picker.close"),
        Binding("down", "move(1)", "Next", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="picker.up"),
    ]

    def action_move(self, step: int) -> None:
        option_list = self.query_one(OptionList)
        if option_list.option_count:
            current = option_list.highlighted or 0
            option_list.highlighted = (current + step) % option_list.option_count

    def action_cancel(self) -> None:
        self.dismiss(None)
