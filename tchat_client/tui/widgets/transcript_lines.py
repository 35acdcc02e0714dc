"""How one transcript entry looks: separators, name and time header, body, glyph.

An entry is one message plus whatever the transcript draws above it (a blank line
between groups, a day separator, the unread marker, the author header). Which of
those it gets (``Flags``) depends only on the message before it, so the transcript
can lay out any entry on its own, in any order, and cache the result.

Columns::

    09:41  alice                                  <- time in the gutter, then the name
           the body, wrapped to the body width    <- GUTTER columns of indent
           last line of an own message          ✓✓ <- MARGIN columns for the glyph
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from rich.cells import cell_len
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.strip import Strip

from tchat_client.sanitize import visible_line
from tchat_client.tui.model import DELIVERY_STATES, ShownMessage
from tchat_client.tui.render import BodyStyles, mentions, render_body

__all__ = [
    "COMPONENTS",
    "GLYPHS",
    "GROUP_SECONDS",
    "GUTTER",
    "MARGIN",
    "Flags",
    "Look",
    "build_look",
    "day_label",
    "estimate_height",
    "flags_for",
    "render_entry",
]

GUTTER = 7
"""Columns before the body: ``HH:MM`` and two spaces."""

MARGIN = 3
"""Columns after the body, where an own message's delivery glyph goes."""

GROUP_SECONDS = 300.0
"""Messages from one author closer together than this share one header."""

GLYPHS = {"queued": "◷", "sent": "✓", "delivered": "✓✓", "read": "✓✓", "failed": "⚠"}

COMPONENTS = (
    "transcript--time",
    "transcript--author",
    "transcript--day",
    "transcript--unread",
    "transcript--mention-line",
    *(f"transcript--state-{state}" for state in DELIVERY_STATES),
    "transcript--code",
    "transcript--code-block",
    "transcript--link",
    "transcript--url",
    "transcript--mention",
    "transcript--mention-me",
    "transcript--quote",
    "transcript--quote-bar",
    "transcript--marker",
)
"""The component classes a transcript's CSS styles (``build_look`` reads them)."""

HUES = (0, 25, 45, 90, 145, 175, 200, 220, 260, 290, 325)
"""Author colour hues (degrees), spread round the wheel."""


@dataclass(frozen=True, slots=True)
class Flags:
    """What an entry draws above its body."""

    gap: bool = False
    day: bool = False
    unread: bool = False
    header: bool = True

    @property
    def lines(self) -> int:
        return self.gap + self.day + self.unread + self.header


@dataclass(frozen=True)
class Look:
    """The styles of a transcript, resolved from its theme."""

    base: Style
    time: Style
    day: Style
    unread: Style
    author: Style
    palette: tuple[Style, ...]
    mention_line: Style
    states: tuple[Style, ...]
    """One per ``DELIVERY_STATES``, in that order."""
    body: BodyStyles

    def author_style(self, name: str) -> Style:
        """A colour per name that is the same in every session (crc32, not hash())."""
        colour = self.palette[zlib.crc32(name.encode("utf-8", "replace")) % len(self.palette)]
        return colour + self.author


def build_look(component: Callable[[str, bool], Style], *, base: Style, dark: bool) -> Look:
    """The look of a transcript from its component styles (``transcript--*``,
    full or partial) and whether the theme is dark.

    Author colours are not theme variables: a theme has too few distinct colours
    for them. They are hues spread round the wheel, light on dark themes and dark on
    light ones.
    """

    def style(name: str, partial: bool = False) -> Style:
        return component(f"transcript--{name}", partial)

    lightness, saturation = (0.72, 0.6) if dark else (0.38, 0.7)
    palette = tuple(
        Style(color=Color.from_hsl(hue / 360, saturation, lightness).rich_color) for hue in HUES
    )
    body = BodyStyles(
        code=style("code"),
        code_block=style("code-block"),
        code_theme="github-dark" if dark else "default",
        link=style("link"),
        url=style("url"),
        mention=style("mention"),
        mention_me=style("mention-me"),
        quote=style("quote", partial=True),
        quote_bar=style("quote-bar"),
        marker=style("marker"),
    )
    return Look(
        base=base,
        time=style("time"),
        day=style("day"),
        unread=style("unread"),
        author=style("author", partial=True),
        palette=palette,
        mention_line=style("mention-line"),
        states=tuple(style(f"state-{state}") for state in DELIVERY_STATES),
        body=body,
    )


def flags_for(
    previous: ShownMessage | None,
    previous_day: int,
    message: ShownMessage,
    day: int,
    unread: bool,
) -> Flags:
    """Lay out ``message`` after ``previous`` (days are ``date.toordinal()``)."""
    if previous is None:
        return Flags(gap=False, day=True, unread=unread, header=True)
    new_day = day != previous_day
    header = (
        new_day
        or unread
        or message.author != previous.author
        or not 0 <= message.ts - previous.ts < GROUP_SECONDS
    )
    return Flags(gap=header, day=new_day, unread=unread, header=header)


def day_label(day: date, today: date) -> str:
    """``Today``, ``Yesterday``, ``Mon 23 Nov``, or with the year when not this one."""
    delta = (today - day).days
    if delta == 0:
        return "Today"
    if delta == 1:
        return "Yesterday"
    label = f"{day:%a} {day.day} {day:%b}"
    return label if day.year == today.year else f"{label} {day.year}"


def body_width(width: int) -> int:
    return max(width - GUTTER - MARGIN, 8)


def estimate_height(message: ShownMessage, flags: Flags, width: int) -> int:
    """A cheap guess of the entry's height, for entries not rendered yet."""
    wrap = body_width(width)
    lines = sum(len(line) // wrap + 1 for line in message.body.strip("\n").split("\n"))
    return flags.lines + lines


def render_entry(
    message: ShownMessage,
    flags: Flags,
    *,
    width: int,
    day_text: str,
    time_text: str,
    me: str | None,
    look: Look,
    console: Console,
) -> list[Strip]:
    """The entry's lines, each exactly ``width`` cells."""
    base = look.base
    strips: list[Strip] = []
    if flags.gap:
        strips.append(Strip.blank(width, base))
    if flags.day:
        strips.append(
            _strip(_rule(f" {day_text} ", width, look.day, centre=True), width, base, console)
        )
    if flags.unread:
        strips.append(
            _strip(_rule(" new ", width, look.unread, centre=False), width, base, console)
        )
    if flags.header:
        header = Text()
        header.append(time_text.ljust(GUTTER), look.time)
        header.append(visible_line(message.author), look.author_style(message.author))
        header.truncate(width)
        strips.append(_strip(header, width, base, console))
    line_style = base + look.mention_line if me and mentions(message.body, me) else base
    body = render_body(message.body, me, body_width(width), look.body)
    glyph = _glyph(message, look) if me is not None and message.author == me else None
    last = len(body) - 1
    for index, body_line in enumerate(body):
        line = Text(" " * GUTTER)
        line.append_text(body_line)
        if index == last and glyph is not None:
            line.pad_right(max(width - line.cell_len - glyph.cell_len, 1))
            line.append_text(glyph)
        strips.append(_strip(line, width, line_style, console))
    return strips


def _glyph(message: ShownMessage, look: Look) -> Text | None:
    if message.state is None:
        return None
    style = look.states[DELIVERY_STATES.index(message.state)]
    return Text(GLYPHS[message.state], style)


def _rule(label: str, width: int, style: Style, *, centre: bool) -> Text:
    """A horizontal rule with ``label`` in the middle, or near the right end."""
    room = max(width - cell_len(label), 0)
    left = room // 2 if centre else max(room - 2, 0)
    text = Text("─" * left, style)
    text.append(label, style + Style(bold=True))
    text.append("─" * (room - left), style)
    return text


def _strip(text: Text, width: int, style: Style, console: Console) -> Strip:
    text.truncate(width)
    segments = list(text.render(console))
    return Strip(segments, text.cell_len).crop_extend(0, width, None).apply_style(style)
