"""The reaction picker: a search over every emoji by name and shortcode, the
frequently used ones first; up/down and Enter pick, Escape closes.

Picking an emoji the user already gave on the message dismisses with it all the
same: the caller removes it then (a toggle), and the list says so beforehand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import emoji
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tchat_client.sanitize import visible_line
from tchat_client.tui.screens.picker import FilterPicker

__all__ = ["DEFAULT_FREQUENT", "EmojiInfo", "ReactionPicker", "emoji_index", "search_emoji"]

DEFAULT_FREQUENT = ("👍", "❤️", "😂", "🎉", "👀", "🙏", "✅", "🔥")
"""The row shown first before the user has reacted with anything else."""

LIMIT = 60
"""Options shown for one query (the list is a search, not a catalogue)."""


@dataclass(frozen=True, slots=True)
class EmojiInfo:
    char: str
    name: str
    """``thumbs_up``: the CLDR name as a shortcode, without colons."""
    aliases: tuple[str, ...]
    """``+1``, ``thumbsup``: other shortcodes, without colons."""


_BLOCKS = (
    (0x1F600, 0x1F64F),  # smileys
    (0x1F910, 0x1F9FF),  # more faces, hands, people
    (0x1F440, 0x1F4FF),  # eyes, gestures, hearts, objects
    (0x2600, 0x27BF),  # symbols: ✅ ❤ ☀
    (0x1F300, 0x1F43F),  # nature, food, animals
    (0x1F500, 0x1F5FF),
    (0x1F680, 0x1F6FF),  # transport
)
"""Unicode blocks in the order a browsing user expects (faces first, flags last)."""


def _browse_order(char: str) -> tuple[int, int, str]:
    first = ord(char[0])
    if 0x1F1E6 <= first <= 0x1F1FF or first == 0x1F3F4:  # flags
        return (len(_BLOCKS) + 1, first, char)
    block = next((i for i, (lo, hi) in enumerate(_BLOCKS) if lo <= first <= hi), len(_BLOCKS))
    return (block, first, char)


def _norm(name: str) -> str:
    return "".join(c for c in name.casefold() if c.isalnum())


@cache
def emoji_index() -> tuple[EmojiInfo, ...]:
    """Every fully qualified emoji without a skin tone, faces first, flags last."""
    fully = emoji.STATUS["fully_qualified"]
    found: list[EmojiInfo] = []
    for char in sorted(emoji.EMOJI_DATA, key=_browse_order):
        data = emoji.EMOJI_DATA[char]
        name = str(data.get("en", "")).strip(":")
        if data.get("status") != fully or not name or "skin_tone" in name:
            continue
        aliases = tuple(
            a
            for a in (str(alias).strip(":") for alias in data.get("alias", ()))
            if a and _norm(a) != _norm(name)
        )
        found.append(EmojiInfo(char, name, aliases))
    return tuple(found)


def _info(char: str) -> EmojiInfo:
    for info in emoji_index():
        if info.char == char:
            return info
    return EmojiInfo(char, "", ())


def search_emoji(query: str, frequent: Iterable[str] = ()) -> list[EmojiInfo]:
    """Emoji whose name or a shortcode contains every word of ``query`` (colons,
    spaces and case do not matter); exact names first, then prefixes, and among
    equals the frequently used first."""
    words = [w for w in query.casefold().replace(":", " ").replace("_", " ").split() if w]
    order = {char: index for index, char in enumerate(frequent)}
    scored: list[tuple[int, int, int, EmojiInfo]] = []
    for position, info in enumerate(emoji_index()):
        names = [info.name.casefold(), *(a.casefold() for a in info.aliases)]
        spaced = [n.replace("_", " ") for n in names]
        if not all(any(w in n for n in spaced) for w in words):
            continue
        joined = " ".join(words)
        rank = 0 if joined in spaced else 1 if any(n.startswith(joined) for n in spaced) else 2
        scored.append((rank, order.get(info.char, len(order)), position, info))
    scored.sort(key=lambda item: item[:3])
    return [info for *_, info in scored]


def _prompt(info: EmojiInfo, given: bool) -> Text:
    line = Text()
    line.append(f" {info.char} ")
    line.append(f" {info.name.replace('_', ' ')}")
    if info.aliases:
        line.append("  " + " ".join(f":{a}:" for a in info.aliases[:2]), style="dim")
    if given:
        line.append("  ✓ yours: Enter removes it", style="bold")
    return line


class ReactionPicker(FilterPicker[str]):
    """Dismisses with the chosen emoji (a character), or None."""

    DEFAULT_CSS = """
    ReactionPicker {
        align: center top;
    }
    ReactionPicker > Vertical {
        margin-top: 3;
        width: 64;
        max-width: 95%;
        height: auto;
        max-height: 80%;
        border: round $primary;
        border-title-color: $text-primary;
        border-subtitle-color: $text-muted;
        background: $surface;
    }
    ReactionPicker Input, ReactionPicker Input:focus {
        border: none;
        height: 1;
        margin: 1 1 0 1;
        padding: 0 1;
        background: $boost;
    }
    ReactionPicker OptionList {
        border: none;
        height: auto;
        max-height: 20;
        margin: 1 0 0 0;
        background: $surface;
    }
    """

    def __init__(
        self, *, title: str = "React", frequent: Iterable[str] = (), given: Iterable[str] = ()
    ) -> None:
        """``frequent``: emoji to list first; ``given``: those the user already gave
        on this message (picking one removes it)."""
        super().__init__()
        self._title = title
        self._frequent = tuple(dict.fromkeys([*frequent, *DEFAULT_FREQUENT]))[:8]
        self._given = frozenset(given)
        self._choices: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(visible_line(self._title))
            box.border_subtitle = Content("↑↓ Enter pick · Esc close")
            yield Input(placeholder="Search emoji: thumbs, tada, :+1:…", id="reaction-input")
            yield OptionList(id="reaction-options")

    def _filter(self, query: str) -> None:
        options: list[Option] = []
        self._choices = []
        if not query.strip():
            options.append(Option(Text("Frequently used", style="bold"), disabled=True))
            for char in self._frequent:
                options.append(self._option(_info(char)))
            options.append(Option(Text("All emoji", style="bold"), disabled=True))
            found = [i for i in emoji_index() if i.char not in self._frequent][:LIMIT]
        else:
            found = search_emoji(query, self._frequent)[:LIMIT]
            if not found:
                options.append(Option(Text("No emoji by that name", style="dim"), disabled=True))
        options.extend(self._option(info) for info in found)
        option_list = self.query_one(OptionList)
        option_list.set_options(options)
        first = next((i for i, o in enumerate(options) if not o.disabled), None)
        option_list.highlighted = first

    def _option(self, info: EmojiInfo) -> Option:
        self._choices.append(info.char)
        return Option(_prompt(info, info.char in self._given), id=str(len(self._choices) - 1))

    def action_move(self, step: int) -> None:
        option_list = self.query_one(OptionList)
        if step > 0:
            option_list.action_cursor_down()
        else:
            option_list.action_cursor_up()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        option_list = self.query_one(OptionList)
        if option_list.highlighted is not None:
            self._choose(option_list.get_option_at_index(option_list.highlighted).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is not None:
            self.dismiss(self._choices[int(option_id)])
