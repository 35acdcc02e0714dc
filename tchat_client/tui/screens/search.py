"""Message search (ctrl+f): a query, its results newest first, Enter to jump there.

Enter in the query runs the search; once it ran, Enter (or a click) picks the
highlighted result and the screen dismisses with that message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from shared.errors import ProtocolError
from shared.search import parse_query
from tchat_client.core import ClientError
from tchat_client.core.models import Message
from tchat_client.sanitize import visible_line
from tchat_client.tui.screens.picker import PickerScreen

__all__ = ["SearchScreen", "highlight_terms", "result_line"]

Searcher = Callable[[str], Awaitable[list[Message]]]
Labeler = Callable[[int | None], str]

_HINT = "words, from:alice, in:#general, before:2026-11-20, after:…"


def highlight_terms(query: str) -> list[str]:
    """The words of a query to mark in its results (filters are not words)."""
    try:
        parsed = parse_query(query)
    except ProtocolError:
        return []
    words = [w for term in parsed.terms for w in re.findall(r"\w+", term)]
    return words + list(parsed.prefixes)


def result_line(message: Message, label: str, words: list[str], width: int = 200) -> Text:
    """``#room  author  2026-11-20 14:03  body`` on one line, matched words marked."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(visible_line(label), style="bold")
    line.append("  ")
    line.append(visible_line(message.author))
    line.append("  ")
    line.append(time.strftime("%Y-%m-%d %H:%M", time.localtime(message.ts)), style="dim")
    line.append("  ")
    body = Text(visible_line(message.body)[:width])
    for word in words:
        body.highlight_regex(re.compile(re.escape(word), re.IGNORECASE), "bold reverse")
    line.append_text(body)
    return line


class SearchScreen(PickerScreen[Message]):
    """Dismisses with the chosen message, or None."""

    DEFAULT_CSS = """
    SearchScreen {
        align: center top;
    }
    SearchScreen > Vertical {
        margin-top: 2;
        width: 100;
        max-width: 95%;
        height: auto;
        max-height: 85%;
        border: round $primary;
        border-title-color: $text-primary;
        background: $surface;
    }
    SearchScreen Input, SearchScreen Input:focus {
        border: none;
        height: 1;
        margin: 0 1;
    }
    SearchScreen #search-status {
        color: $text-muted;
        margin: 0 1;
    }
    SearchScreen OptionList {
        border: none;
        height: auto;
        max-height: 24;
    }
    """

    def __init__(
        self,
        search: Searcher | None,
        label: Labeler,
        *,
        query: str = "",
        results: list[Message] | None = None,
    ) -> None:
        """``search``: runs a query (``Client.search``); ``label``: a room id's name.
        ``query`` and ``results`` show a search already made (and need no server)."""
        super().__init__()
        self._search = search
        self._label = label
        self._query = query
        self._searched: str | None = query if results is not None else None
        self._results: list[Message] = list(results or [])

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Search"
            yield Input(
                value=self._query,
                placeholder=f"Search: {_HINT}",
                max_length=500,
                id="search-input",
            )
            yield Static(id="search-status")
            yield OptionList(id="search-results")

    def on_mount(self) -> None:
        if self._searched is not None:
            self._show(self._searched, self._results)
        else:
            self._status("Type words or filters, then Enter")
        self.query_one(Input).focus()

    @property
    def results(self) -> list[Message]:
        return list(self._results)

    def _status(self, text: str) -> None:
        self.query_one("#search-status", Static).update(Text(text))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if query and query == self._searched:
            self._choose_highlighted()
        elif query:
            self._run(query)

    @work(group="search", exclusive=True, exit_on_error=False)
    async def _run(self, query: str) -> None:
        if self._search is None:
            return
        self._status("Searching…")
        try:
            found = await self._search(query)
        except ClientError as exc:
            self._searched = None
            self.query_one(OptionList).clear_options()
            self._status(str(exc))
            return
        self._searched = query
        self._show(query, found)

    def _show(self, query: str, found: list[Message]) -> None:
        self._results = found
        words = highlight_terms(query)
        options = [
            Option(result_line(m, self._label(m.room), words), id=str(i))
            for i, m in enumerate(found)
        ]
        option_list = self.query_one(OptionList)
        option_list.set_options(options)
        if options:
            option_list.highlighted = 0
        count = len(found)
        self._status(
            f"{count} message{'s' if count != 1 else ''}, newest first: Enter jumps there"
            if count
            else "No messages match"
        )

    def _choose_highlighted(self) -> None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is not None:
            self._choose(option_list.get_option_at_index(option_list.highlighted).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is not None:
            self.dismiss(self._results[int(option_id)])
