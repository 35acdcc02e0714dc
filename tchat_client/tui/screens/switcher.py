"""The quick switcher (ctrl+k): fuzzy search over rooms and people, Enter to go."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tchat_client.sanitize import visible_line
from tchat_client.tui.screens.picker import FilterPicker

__all__ = ["QuickSwitcher"]

Target = tuple[str, int | str, str]


class QuickSwitcher(FilterPicker[int | str]):
    """Dismisses with a room id, ``"@user"`` for a new DM, or None."""

    DEFAULT_CSS = """
    QuickSwitcher {
        align: center top;
    }
    QuickSwitcher > Vertical {
        margin-top: 3;
        width: 60;
        max-width: 95%;
        height: auto;
        max-height: 70%;
        border: round $primary;
        background: $surface;
    }
    QuickSwitcher Input {
        border: none;
        margin: 0 1;
    }
    QuickSwitcher OptionList {
        border: none;
        height: auto;
        max-height: 20;
    }
    """

    def __init__(self, targets: list[Target]) -> None:
        super().__init__()
        self._targets = targets

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="Jump to a room or person…", id="switcher-input")
            yield OptionList(id="switcher-options")

    def _filter(self, query: str) -> None:
        scored: list[tuple[float, int, Target]] = []
        matcher = Matcher(query.strip()) if query.strip() else None
        for index, target in enumerate(self._targets):
            score = matcher.match(target[0]) if matcher else 1.0
            if score > 0:
                scored.append((-score, index, target))
        scored.sort()
        options = []
        for _, index, (label, _value, hint) in scored[:50]:
            shown = visible_line(label)
            prompt = Text(shown)
            if matcher:
                _, offsets = matcher.fuzzy_search.match(matcher.query, shown)
                for offset in offsets:
                    prompt.stylize("bold underline", offset, offset + 1)
            prompt.append(f"  {hint}", style="dim")
            options.append(Option(prompt, id=str(index)))
        option_list = self.query_one(OptionList)
        option_list.set_options(options)
        if options:
            option_list.highlighted = 0

    @on(Input.Submitted)
    def _submitted(self) -> None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is not None:
            self._choose(option_list.get_option_at_index(option_list.highlighted).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is None:
            return
        self.dismiss(self._targets[int(option_id)][1])
