"""The lines around a message's body: the quote of the message it answers, the
tombstone of a deleted one, "(edited)", its file card, its reaction chips, its reply
count, and system notices.

Pure functions from a ``ShownMessage`` to Rich ``Text`` (no widget): the transcript
calls them when it paints an entry. Every string from the wire (names, snippets,
file names, emoji) goes through ``sanitize.visible_line`` and is appended to a
``Text``, never parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from tchat_client.sanitize import visible_line
from tchat_client.tui.model import FileCard, ReactionCount, ReplyPreview, ShownMessage

__all__ = [
    "EDITED",
    "TOMBSTONE",
    "ExtraStyles",
    "extra_height",
    "file_line",
    "human_size",
    "notice_line",
    "reaction_lines",
    "reactors_line",
    "reply_line",
    "thread_line",
]

EDITED = "(edited)"
TOMBSTONE = "message deleted"


@dataclass(frozen=True)
class ExtraStyles:
    """Styles of the lines around a body; hashable like ``BodyStyles``."""

    dim: Style = field(default_factory=lambda: Style(dim=True))
    tombstone: Style = field(default_factory=lambda: Style(dim=True, italic=True))
    chip: Style = field(default_factory=lambda: Style(bgcolor="grey23"))
    chip_mine: Style = field(default_factory=lambda: Style(bgcolor="blue", bold=True))
    file: Style = field(default_factory=lambda: Style(bold=True))
    thread: Style = field(default_factory=lambda: Style(bold=True))


def human_size(size: int) -> str:
    """``532 B``, ``1.2 KB``, ``14 MB``: one decimal below ten, binary units."""
    value = float(max(size, 0))
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _ellipsis(text: Text, width: int) -> Text:
    if text.cell_len > width:
        text.truncate(max(width - 1, 0))
        text.append("…")
    return text


def reply_line(reply: ReplyPreview | None, width: int, styles: ExtraStyles, author: Style) -> Text:
    """``↳ bob: first words of the parent…``, or ``↳ deleted message``."""
    text = Text("↳ ", styles.dim)
    if reply is None:
        text.append("a reply to an earlier message", styles.tombstone)
    elif reply.deleted:
        text.append("deleted message", styles.tombstone)
    else:
        text.append(visible_line(reply.author), author)
        text.append(": ", styles.dim)
        text.append(" ".join(visible_line(reply.snippet).split()), styles.dim)
    return _ellipsis(text, width)


def file_line(card: FileCard, width: int, styles: ExtraStyles) -> Text:
    """``📎 report.pdf · 1.2 MB · application/pdf``."""
    text = Text("📎 ")
    text.append(visible_line(card.name), styles.file)
    text.append(f" · {human_size(card.size)} · {visible_line(card.mime)}", styles.dim)
    return _ellipsis(text, width)


def reaction_lines(
    reactions: tuple[ReactionCount, ...], me: str | None, width: int, styles: ExtraStyles
) -> list[Text]:
    """Chips ``[👍 2] [🎉 1]``, the user's own reactions highlighted, wrapped to
    ``width``."""
    lines: list[Text] = []
    line = Text()
    for reaction in reactions:
        if not reaction.count:
            continue
        label = f" {visible_line(reaction.emoji)} {reaction.count} "
        mine = me is not None and me in reaction.users
        chip = Text(label, styles.chip_mine if mine else styles.chip)
        gap = 1 if line.cell_len else 0
        if line.cell_len and line.cell_len + gap + chip.cell_len > width:
            lines.append(line)
            line, gap = Text(), 0
        if gap:
            line.append(" ")
        line.append_text(_ellipsis(chip, width))
    if line.cell_len:
        lines.append(line)
    return lines


def reactors_line(reactions: tuple[ReactionCount, ...], width: int, styles: ExtraStyles) -> Text:
    """``👍 bob, carol · 🎉 dave``: who gave each reaction, in the order they did."""
    text = Text()
    for reaction in reactions:
        if not reaction.users:
            continue
        if text.cell_len:
            text.append(" · ", styles.dim)
        text.append(f"{visible_line(reaction.emoji)} ")
        text.append(", ".join(visible_line(user) for user in reaction.users), styles.dim)
    return _ellipsis(text, width)


def thread_line(count: int, width: int, styles: ExtraStyles) -> Text:
    """``💬 3 replies``."""
    return _ellipsis(
        Text(f"💬 {count} {'reply' if count == 1 else 'replies'}", styles.thread), width
    )


def notice_line(message: ShownMessage, width: int, styles: ExtraStyles) -> Text:
    """A system line: dim and italic, in the body's column."""
    return _ellipsis(Text(" ".join(visible_line(message.body).split()), styles.tombstone), width)


def extra_height(message: ShownMessage, width: int) -> int:
    """Lines drawn besides the body's own (a guess for reactions that may wrap)."""
    lines = 0
    if message.reply is not None or message.reply_to is not None:
        lines += 1
    if message.file is not None and not message.deleted:
        lines += 1
    if message.reactions and not message.deleted:
        chips = sum(cell_len(r.emoji) + len(str(r.count)) + 4 for r in message.reactions)
        lines += chips // max(width, 1) + 1
    if message.reply_count:
        lines += 1
    return lines
