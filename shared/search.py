"""The search query language, parsed without I/O (the server runs it; clients may use
``terms`` to highlight what matched).

A query is words and filters separated by spaces::

    deploy "release notes" from:alice in:#ops after:2026-11-01 before:2026-11-20

- Free words and ``"quoted phrases"`` must all occur (FTS5, diacritics ignored); a
  word ending in ``*`` matches as a prefix (``deplo*``).
- ``from:NAME`` (the author, ``@`` optional), ``in:#channel`` / ``in:group`` /
  ``in:@user`` (a DM), ``before:YYYY-MM-DD`` (sent before that UTC day),
  ``after:YYYY-MM-DD`` (sent after that UTC day), ``has:file``.

Every word becomes a quoted FTS5 string, so nothing a user types is ever read as
FTS5 syntax (``NEAR(``, ``*``, ``"``, ``-``, ``AND`` are all plain text here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shared.errors import ErrorCode, ProtocolError

__all__ = ["SearchQuery", "parse_query"]

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_FILTER = re.compile(r"(?i)(from|in|before|after|has):(.*)")
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed query. ``terms`` are the words and phrases as typed (for
    highlighting); ``match`` is the FTS5 expression (None: no words, filters only)."""

    terms: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    """Words that ended in ``*`` (without it): they match as prefixes."""
    from_user: str | None = None
    in_room: str | None = None
    """As typed: ``#general``, ``general`` or ``@bob``."""
    since: float | None = None
    """Epoch seconds: only messages at or after this time (``after:``)."""
    until: float | None = None
    """Epoch seconds: only messages before this time (``before:``)."""
    has_file: bool = False

    @property
    def match(self) -> str | None:
        parts = [_quote(term) for term in self.terms]
        parts.extend(f"{_quote(prefix)} *" for prefix in self.prefixes)
        return " ".join(parts) or None

    @property
    def has_filter(self) -> bool:
        return any(
            (
                self.from_user,
                self.in_room,
                self.has_file,
                self.since is not None,
                self.until is not None,
            )
        )


def _quote(text: str) -> str:
    """An FTS5 string: whatever it holds is matched as text, never as syntax."""
    return '"' + text.replace('"', '""') + '"'


def _searchable(text: str) -> bool:
    """Whether the tokenizer finds a word in it (unicode61 keeps letters and digits);
    a term of punctuation alone would match nothing, or everything."""
    return any(ch.isalnum() for ch in text)


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.QUERY_INVALID, message)


def _day(key: str, value: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise _invalid(f"{key}: wants a date like 2026-11-20, not {value!r}") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise _invalid(f"{key}: wants a date like 2026-11-20, not {value!r}")
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_query(text: str) -> SearchQuery:
    """Parse a search query.

    Raises:
        ProtocolError: ``query_invalid``: a bad date or filter, a filter given twice,
            or nothing to search for.
    """
    terms: list[str] = []
    prefixes: list[str] = []
    found: dict[str, str] = {}
    for match in _TOKEN.finditer(text):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            if _searchable(phrase):
                terms.append(phrase)
            continue
        assert word is not None
        key_value = _FILTER.fullmatch(word)
        if key_value:
            key, value = key_value.group(1).lower(), key_value.group(2)
            if not value:
                raise _invalid(f"{key}: needs a value")
            if key in found:
                raise _invalid(f"{key}: given twice")
            found[key] = value
            continue
        if word.endswith("*") and _searchable(word):
            prefixes.append(word.rstrip("*"))
        elif _searchable(word):
            terms.append(word)
    has = found.get("has")
    if has is not None and has.lower() != "file":
        raise _invalid(f"has: knows only has:file, not has:{has}")
    since = until = None
    if "after" in found:
        since = (_day("after", found["after"]) + _DAY).timestamp()
    if "before" in found:
        until = _day("before", found["before"]).timestamp()
    query = SearchQuery(
        terms=tuple(terms),
        prefixes=tuple(prefixes),
        from_user=found["from"].removeprefix("@") if "from" in found else None,
        in_room=found.get("in"),
        since=since,
        until=until,
        has_file=has is not None,
    )
    if query.match is None and not query.has_filter:
        raise _invalid("nothing to search for: give a word or a filter")
    return query
