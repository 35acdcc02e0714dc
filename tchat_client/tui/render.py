"""A message body as wrapped Rich ``Text`` lines: markdown, code, emoji, mentions.

``render_body(body, me, width, styles)`` is a pure function of its arguments (and
cached), so the transcript can call it for whichever message scrolls into view.

User text is never parsed as Rich markup: every ``Text`` here is built with
``Text.append``, so ``[/bold]`` and ``[link=...]`` show literally and no span ever
carries a hyperlink (links show their text and their URL instead). The body goes
through ``sanitize.visible`` before parsing, and every string that comes out of the
parser goes through it again, because character references such as ``&#27;`` would
otherwise put an ESC back.

Markdown is CommonMark plus strikethrough and bare-URL links, with two chat habits:
a single newline is a line break, and raw HTML shows as typed.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.util import find_spec

import emoji
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from rich.console import Console
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text

from tchat_client.sanitize import visible

__all__ = ["BodyStyles", "mentions", "render_body"]

TAB = 4
"""Columns per tab stop in code."""

MIN_WIDTH = 8
"""Bodies never wrap narrower than this."""

MIN_INNER = 4
"""Nested blocks (list items, quotes) never wrap narrower than this."""

_BULLETS = ("•", "◦", "▪")


@dataclass(frozen=True)
class BodyStyles:
    """The Rich styles a body is drawn with; the transcript fills them from its theme.

    Hashable, so it is part of ``render_body``'s cache key.
    """

    code: Style = field(default_factory=lambda: Style(color="bright_cyan"))
    code_block: Style = field(default_factory=lambda: Style(bgcolor="grey11"))
    code_theme: str = "github-dark"
    link: Style = field(default_factory=lambda: Style(color="bright_blue", underline=True))
    url: Style = field(default_factory=lambda: Style(dim=True))
    mention: Style = field(default_factory=lambda: Style(bold=True))
    mention_me: Style = field(default_factory=lambda: Style(bold=True, reverse=True))
    quote: Style = field(default_factory=lambda: Style(italic=True))
    quote_bar: Style = field(default_factory=lambda: Style(dim=True))
    marker: Style = field(default_factory=lambda: Style(dim=True))


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("strikethrough").disable(["html_block", "html_inline"])
    if find_spec("linkify_it") is not None:
        md.options["linkify"] = True
        md.enable("linkify")
        # Only URLs with a scheme: "file.py" must not become http://file.py.
        assert md.linkify is not None
        md.linkify.set({"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})
    return md


_MD = _make_parser()
_CONSOLE = Console(
    file=io.StringIO(), width=200, color_system=None, markup=False, emoji=False, highlight=False
)
_MENTION = re.compile(r"(?<![\w@/])@(\w(?:[\w.-]*\w)?)")
# Bodies without any of these are plain prose and skip the markdown parser.
_SPECIAL = re.compile(r"[\\`*_~\[\]<>#!&]|^\s*(?:[-+=>]|\d+[.)])|^ {4}|\w:/|\n\n", re.M)


def mentions(body: str, me: str | None) -> bool:
    """True when ``body`` mentions ``@me`` anywhere (case-insensitive)."""
    if not me or "@" not in body:
        return False
    me_folded = me.casefold()
    return any(m.group(1).casefold() == me_folded for m in _MENTION.finditer(body))


def render_body(body: str, me: str | None, width: int, styles: BodyStyles) -> tuple[Text, ...]:
    """Render a message body into lines of at most ``width`` cells.

    Args:
        body: The untrusted message text, as it came over the wire.
        me: The current user's name, whose ``@mentions`` are highlighted.
        width: Cells available per line.
        styles: Styles to draw with.

    Returns:
        One ``Text`` per line, without newlines. The result is cached and shared:
        copy a line before changing it.
    """
    return _render(body, me, max(width, MIN_WIDTH), styles)


@lru_cache(maxsize=2048)
def _render(body: str, me: str | None, width: int, styles: BodyStyles) -> tuple[Text, ...]:
    source = visible(body).strip("\n")
    if not source:
        return (Text(),)
    ctx = _Context(me.casefold() if me else None, styles, source)
    if _SPECIAL.search(source) is None:  # plain prose: skip the parser
        return tuple(ctx.wrap(ctx.words(source), width))
    lines = ctx.blocks(SyntaxTreeNode(_MD.parse(source)).children, width, depth=0)
    for line in lines:
        line.truncate(width)  # only bites when nesting is deeper than the width
    return tuple(lines)


class _Context:
    """What one rendering needs: who "me" is, the styles, the source lines."""

    def __init__(self, me: str | None, styles: BodyStyles, source: str) -> None:
        self.me = me
        self.styles = styles
        self.source = source.split("\n")

    # ------------------------------------------------------------------ blocks

    def blocks(self, nodes: list[SyntaxTreeNode], width: int, depth: int) -> list[Text]:
        """Lines for a sequence of blocks, with one blank line between two blocks
        where the author left at least one."""
        lines: list[Text] = []
        for index, node in enumerate(nodes):
            if index and self.blank_before(node):
                lines.append(Text())
            lines.extend(self.block(node, max(width, MIN_INNER), depth))
        return lines

    def blank_before(self, node: SyntaxTreeNode) -> bool:
        if node.map is None or node.map[0] == 0:
            return False
        return not self.source[node.map[0] - 1].strip(" \t>")

    def block(self, node: SyntaxTreeNode, width: int, depth: int) -> list[Text]:
        kind = node.type
        if kind == "paragraph":
            return self.wrap(self.inline(node), width)
        if kind == "heading":
            text = self.inline(node)
            text.stylize(Style(bold=True))
            return self.wrap(text, width)
        if kind in ("bullet_list", "ordered_list"):
            return self.list_block(node, width, depth)
        if kind == "blockquote":
            inner = self.blocks(node.children, width - 2, depth)
            for line in inner:
                line.stylize_before(self.styles.quote)
            return [_joined("▎ ", self.styles.quote_bar, line) for line in inner]
        if kind in ("fence", "code_block"):
            return self.code(node.content, node.info.strip().split(" ")[0], width)
        if kind == "hr":
            return [Text("─" * min(width, 24), self.styles.marker)]
        return self.wrap(Text(visible(node.content)), width)

    def list_block(self, node: SyntaxTreeNode, width: int, depth: int) -> list[Text]:
        items = node.children
        if node.type == "ordered_list":
            start = int(str(node.attrs.get("start", 1)))
            numbers = [f"{start + i}." for i in range(len(items))]
            size = max(len(n) for n in numbers) + 1
            markers = [n.rjust(size - 1) + " " for n in numbers]
        else:
            size = 2
            markers = [_BULLETS[depth % len(_BULLETS)] + " "] * len(items)
        lines: list[Text] = []
        for index, (marker, item) in enumerate(zip(markers, items, strict=True)):
            if index and self.blank_before(item):
                lines.append(Text())
            inner = self.blocks(item.children, width - size, depth + 1) or [Text()]
            lines.append(_joined(marker, self.styles.marker, inner[0]))
            lines.extend(_joined(" " * size, None, line) for line in inner[1:])
        return lines

    def code(self, code: str, language: str, width: int) -> list[Text]:
        """A code block: highlighted when the fence names a language, folded (not
        word-wrapped) to the width, on a background one cell wider on each side."""
        code = visible(code).rstrip("\n").expandtabs(TAB)
        background = self.styles.code_block
        if language:
            syntax = Syntax(
                code,
                visible(language),
                theme=self.styles.code_theme,
                background_color=str(background.bgcolor.name) if background.bgcolor else None,
            )
            highlighted = syntax.highlight(code)
            highlighted.rstrip()
        else:
            highlighted = Text(code, self.styles.code)
        inner = max(width - 2, 1)
        lines: list[Text] = []
        for line in highlighted.split("\n", allow_blank=True):
            folded = line.wrap(_CONSOLE, inner, overflow="fold", no_wrap=False) if line else [line]
            for part in folded:
                part.rstrip()
                part.pad_right(inner - part.cell_len)
                line_text = _joined(" ", None, part)
                line_text.append(" ")
                lines.append(line_text)
        for line in lines:
            line.stylize_before(background)
        return lines

    # ------------------------------------------------------------------ inline

    def inline(self, node: SyntaxTreeNode) -> Text:
        text = Text()
        for child in node.children:
            self.inline_into(text, child, Style())
        return text

    def inline_into(self, text: Text, node: SyntaxTreeNode, style: Style) -> None:
        kind = node.type
        if kind == "inline":
            for child in node.children:
                self.inline_into(text, child, style)
        elif kind == "text":
            text.append_text(self.words(node.content, style))
        elif kind in ("softbreak", "hardbreak"):
            text.append("\n")
        elif kind == "code_inline":
            text.append(visible(node.content).expandtabs(TAB), style + self.styles.code)
        elif kind in ("strong", "em", "s"):
            extra = {"strong": Style(bold=True), "em": Style(italic=True), "s": Style(strike=True)}
            for child in node.children:
                self.inline_into(text, child, style + extra[kind])
        elif kind in ("link", "image"):
            self.link(text, node, style)
        else:
            text.append(visible(node.content), style)

    def link(self, text: Text, node: SyntaxTreeNode, style: Style) -> None:
        """The link's text, then its URL unless the text is the URL: a link never
        hides where it goes, and is never a terminal hyperlink."""
        url = visible(str(node.attrs.get("href" if node.type == "link" else "src", "")))
        start = len(text)
        if node.type == "image":
            text.append(visible(node.content) or "image", style + self.styles.link)
        else:
            for child in node.children:
                self.inline_into(text, child, style + self.styles.link)
        label = text.plain[start:]
        if node.markup not in ("autolink", "linkify") and label != url:
            text.append(f" ({url})" if label else url, style + self.styles.url)

    def words(self, content: str, style: Style | None = None) -> Text:
        """Plain text with emoji shortcodes replaced and mentions styled."""
        content = visible(content)
        if ":" in content:
            content = emoji.emojize(content, language="alias")
        text = Text(content, style or "")
        if "@" in content:
            for match in _MENTION.finditer(content):
                is_me = self.me is not None and match.group(1).casefold() == self.me
                mention = self.styles.mention_me if is_me else self.styles.mention
                text.stylize(mention, match.start(), match.end())
        return text

    @staticmethod
    def wrap(text: Text, width: int) -> list[Text]:
        text.expand_tabs(TAB)
        lines = text.wrap(_CONSOLE, width, overflow="fold")
        for line in lines:
            line.rstrip()
        return list(lines)


def _joined(prefix: str, style: Style | None, line: Text) -> Text:
    """``prefix`` (in ``style``) followed by ``line``, keeping each one's styles."""
    text = Text()
    text.append(prefix, style)
    text.append_text(line)
    return text
