"""The shape the quick switcher and search share: a modal with an input over an
option list, where up/down move the highlight and Escape closes with nothing."""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList

__all__ = ["FilterPicker", "PickerScreen"]

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


class FilterPicker(PickerScreen[T]):
    """A picker whose options follow what is typed in its input: the list is
    filtered once on mount (empty query) and again on every change."""

    def on_mount(self) -> None:
        self._filter("")
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    def _filter(self, query: str) -> None:
        raise NotImplementedError
