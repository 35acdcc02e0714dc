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
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.strip import Strip

from tchat_client.sanitize import visible_line
from tchat_client.tui.model import DELIVERY_STATES, ShownMessage
from tchat_client.tui.render import BodyStyles, mentions, render_body
from tchat_client.tui.widgets.transcript_extras import (
    EDITED,
    TOMBSTONE,
    ExtraStyles,
    extra_height,
    file_line,
    notice_line,
    reaction_lines,
    reactors_line,
    reply_line,
    thread_line,
)

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
    "transcript--selected",
    "transcript--dim",
    "transcript--tombstone",
    "transcript--chip",
    "transcript--chip-mine",
    "transcript--file",
    "transcript--thread",
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
    selected: bool = False
    """The user picked this message (to reply, react, edit...): it is highlighted."""

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
    extra: ExtraStyles
    selected: Style

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
        extra=ExtraStyles(
            dim=_foreground(style("dim")),
            tombstone=_foreground(style("tombstone")),
            chip=style("chip"),
            chip_mine=style("chip-mine"),
            file=_foreground(style("file")),
            thread=_foreground(style("thread")),
        ),
        selected=style("selected"),
    )


def _foreground(style: Style) -> Style:
    """A component's colour and attributes without its background, so that a line's
    background (a selection, a mention) shows through."""
    return Style(
        color=style.color,
        bold=style.bold,
        dim=style.dim,
        italic=style.italic,
        underline=style.underline,
        strike=style.strike,
    )


def flags_for(
    previous: ShownMessage | None,
    previous_day: int,
    message: ShownMessage,
    day: int,
    unread: bool,
    selected: bool = False,
) -> Flags:
    """Lay out ``message`` after ``previous`` (days are ``date.toordinal()``). A
    notice never has a header, and the message after one always has."""
    if message.notice:
        return Flags(gap=False, day=previous is None or day != previous_day, header=False)
    if previous is None:
        return Flags(gap=False, day=True, unread=unread, header=True, selected=selected)
    new_day = day != previous_day
    header = (
        new_day
        or unread
        or previous.notice
        or message.author != previous.author
        or not 0 <= message.ts - previous.ts < GROUP_SECONDS
    )
    return Flags(gap=header, day=new_day, unread=unread, header=header, selected=selected)


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
    if message.notice:
        return flags.lines + 1
    if message.deleted:
        return flags.lines + 1 + extra_height(message, wrap)
    lines = sum(len(line) // wrap + 1 for line in message.body.strip("\n").split("\n"))
    return flags.lines + lines + extra_height(message, wrap)


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
    if message.notice:
        line = Text(time_text.ljust(GUTTER), look.time)
        line.append_text(notice_line(message, body_width(width) + MARGIN, look.extra))
        strips.append(_strip(line, width, base, console))
        return strips
    first = len(strips) - flags.header  # the lines that a selection highlights
    line_style = base + look.mention_line if me and mentions(message.body, me) else base
    wrap = body_width(width)
    lines, glyph_at = _content(message, me, wrap, look)
    glyph = _glyph(message, look) if me is not None and message.author == me else None
    for index, content in enumerate(lines):
        line = Text(" " * GUTTER)
        line.append_text(content)
        if index == glyph_at and glyph is not None:
            line.pad_right(max(width - line.cell_len - glyph.cell_len, 1))
            line.append_text(glyph)
        strips.append(_strip(line, width, line_style, console))
    if flags.selected and message.reactions:
        # Who reacted, shown while the message is picked (chips only count).
        line = Text(" " * GUTTER)
        line.append_text(reactors_line(message.reactions, wrap, look.extra))
        strips.append(_strip(line, width, base, console))
    if flags.selected:
        strips[first:] = [_highlight(strip, base, look.selected) for strip in strips[first:]]
    return strips


def _highlight(strip: Strip, base: Style, selected: Style) -> Strip:
    """``strip`` on the selection's background wherever it shows the plain one (chips
    and code keep theirs)."""
    plain, colour = base.bgcolor, selected.bgcolor
    if colour is None:
        return strip
    segments = [
        Segment(text, (style or Style()) + Style(bgcolor=colour), control)
        if style is None or style.bgcolor in (None, plain)
        else Segment(text, style, control)
        for text, style, control in strip
    ]
    return Strip(segments, strip.cell_length)


def _content(
    message: ShownMessage, me: str | None, width: int, look: Look
) -> tuple[list[Text], int]:
    """The lines in the body column (quote, body or tombstone, file, chips, reply
    count) and the index of the body's last line, where the delivery glyph goes."""
    extra = look.extra
    lines: list[Text] = []
    if message.reply is not None or message.reply_to is not None:
        author = look.author_style(message.reply.author) if message.reply else extra.dim
        lines.append(reply_line(message.reply, width, extra, author))
    if message.deleted:
        lines.append(Text(TOMBSTONE, extra.tombstone))
        last_body = len(lines) - 1
    else:
        body = render_body(message.body, me, width, look.body)
        if message.file is None or message.body.strip():
            body_lines = list(body)  # shared with render_body's cache: copy to change
            if message.edited:
                last = body_lines[-1] = body_lines[-1].copy()
                if last.cell_len + 1 + len(EDITED) <= width:
                    last.append(" " + EDITED, extra.dim)
                else:
                    body_lines.append(Text(EDITED, extra.dim))
            lines.extend(body_lines)
        elif message.edited:
            lines.append(Text(EDITED, extra.dim))
        last_body = len(lines) - 1
        if message.file is not None:
            lines.append(file_line(message.file, width, extra))
        lines.extend(reaction_lines(message.reactions, me, width, extra))
    if message.reply_count:
        lines.append(thread_line(message.reply_count, width, extra))
    return lines, max(last_body, 0)


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
