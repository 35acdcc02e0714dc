"""render_body: markdown to Rich Text lines, never markup-parsed, never a hyperlink."""

from __future__ import annotations

import pytest
from rich.style import Style
from rich.text import Text

from tchat_client.tui.render import BodyStyles, mentions, render_body

STYLES = BodyStyles()


def render(body: str, width: int = 60, me: str | None = "me") -> list[Text]:
    return list(render_body(body, me, width, STYLES))


def plain(body: str, width: int = 60) -> list[str]:
    return [line.plain for line in render(body, width)]


def as_style(style: str | Style) -> Style:
    return style if isinstance(style, Style) else Style.parse(style)


def assert_no_links(lines: list[Text]) -> None:
    for line in lines:
        assert not as_style(line.style).link
        assert all(not as_style(span.style).link for span in line.spans)


def styles_of(lines: list[Text], fragment: str) -> list[Style]:
    """The styles applying to the first character of ``fragment``."""
    for line in lines:
        at = line.plain.find(fragment)
        if at >= 0:
            return [as_style(span.style) for span in line.spans if span.start <= at < span.end]
    raise AssertionError(f"{fragment!r} not rendered")


def test_markup_shows_literally() -> None:
    body = "[/bold] [link=https://evil.example]click[/link] [red]x"
    assert plain(body) == [body]
    assert_no_links(render(body))


def test_bold_italic_strike_and_code() -> None:
    lines = render("**bold** *it* ~~gone~~ `code`")
    assert plain("**bold** *it* ~~gone~~ `code`") == ["bold it gone code"]
    assert any(s.bold for s in styles_of(lines, "bold"))
    assert any(s.italic for s in styles_of(lines, "it "))
    assert any(s.strike for s in styles_of(lines, "gone"))
    assert STYLES.code in styles_of(lines, "code")


def test_links_show_text_and_url_and_never_hyperlink() -> None:
    lines = render(
        "see [the PR](https://example.org/42) or <https://a.example> or https://b.example", 120
    )
    assert lines[0].plain == (
        "see the PR (https://example.org/42) or https://a.example or https://b.example"
    )
    assert_no_links(lines)


def test_file_names_are_not_links() -> None:
    assert plain("edit file.py please") == ["edit file.py please"]


def test_emoji_shortcodes_but_not_in_code() -> None:
    assert plain(":tada: `:tada:`") == ["🎉 :tada:"]
    assert plain("```\n:tada:\n```")[0].strip() == ":tada:"
    assert plain(":thumbsup: :not_an_emoji:") == ["👍 :not_an_emoji:"]


def test_mentions_of_me_stand_out() -> None:
    lines = render("hi @me and @bob, mail a@me.org")
    assert STYLES.mention_me in styles_of(lines, "@me")
    assert STYLES.mention in styles_of(lines, "@bob")
    assert STYLES.mention_me not in styles_of(lines, "a@me")
    assert mentions("ping @ME!", "me")
    assert not mentions("email a@me.org", "me")
    assert not mentions("@meh", "me")


def test_single_newline_is_a_line_break_and_blank_lines_are_capped() -> None:
    assert plain("one\ntwo") == ["one", "two"]
    assert plain("one\n\n\n\n\ntwo") == ["one", "", "two"]


def test_lists_and_quotes() -> None:
    assert plain("- a\n- b\n  1. c\n  2. d\n\n> said\n> more") == [
        "• a",
        "• b",
        "  1. c",
        "  2. d",
        "",
        "▎ said",
        "▎ more",
    ]


def test_code_block_is_highlighted_boxed_and_folded() -> None:
    lines = render("```python\ndef f(x):\n    return x  # " + "y" * 80 + "\n```", width=40)
    assert all(line.cell_len == 40 for line in lines)
    assert lines[0].plain.startswith(" def f(x):")
    colours = {as_style(span.style).color for line in lines for span in line.spans}
    assert len(colours - {None}) >= 3  # keyword, name, comment...


@pytest.mark.parametrize("width", [8, 20, 33, 80])
def test_lines_fit_the_width(width: int) -> None:
    body = (
        "word " * 50 + "\n- " + "x" * 100 + "\n> " + "quoted " * 20 + "\n```\n" + "z" * 90 + "\n```"
    )
    for line in render(body, width):
        assert line.cell_len <= width
        assert "\n" not in line.plain


def test_character_references_cannot_reintroduce_controls() -> None:
    for line in render("&#27;[2J &#x9b; &#0; &#7;"):
        assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in line.plain)


def test_controls_in_code_are_visible() -> None:
    assert "␛[2J" in plain("`\x1b[2J`")[0]
    assert any("␛]0;x␇" in line for line in plain("```\n\x1b]0;x\x07\n```"))


def test_raw_html_shows_as_typed() -> None:
    assert plain("<b>hi</b> <script>") == ["<b>hi</b> <script>"]


def test_empty_and_whitespace_bodies() -> None:
    assert plain("") == [""]
    assert plain("\n\n") == [""]
