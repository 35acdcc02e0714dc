"""The search query parser: words become quoted FTS5 strings, filters become fields,
and nothing a user types can become FTS5 syntax."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.errors import ErrorCode, ProtocolError
from shared.search import SearchQuery, parse_query


def day(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_words_phrases_and_prefixes_are_quoted() -> None:
    query = parse_query('deploy "release notes" deplo*')
    assert query.terms == ("deploy", "release notes")
    assert query.prefixes == ("deplo",)
    assert query.match == '"deploy" "release notes" "deplo" *'


def test_filters() -> None:
    query = parse_query("From:@Alice in:#ops before:2026-11-20 after:2026-11-01 has:FILE x")
    assert query == SearchQuery(
        terms=("x",),
        from_user="Alice",
        in_room="#ops",
        since=day("2026-11-02"),
        until=day("2026-11-20"),
        has_file=True,
    )
    assert parse_query("in:@bob").in_room == "@bob"
    assert parse_query("in:planning").match is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('a"b', '"a""b"'),
        ("NEAR(x", '"NEAR(x"'),
        ("x OR y", '"x" "OR" "y"'),
        ("-x ^y", '"-x" "^y"'),
        ("body:x", '"body:x"'),
        ('"unbalanced x', '"""unbalanced" "x"'),
        ('x " * ( ) ""', '"x"'),
    ],
)
def test_user_text_is_never_syntax(text: str, match: str) -> None:
    assert parse_query(text).match == match


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        '"',
        "* ( )",
        "before:2026-02-30",
        "after:20261120",
        "after:yesterday",
        "from:",
        "from:a from:b",
        "has:image",
    ],
)
def test_refusals(text: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_query(text)
    assert caught.value.code == ErrorCode.QUERY_INVALID
