"""What the composer offers to complete at the cursor: ``:emoji:`` shortcodes,
``@people``, ``#rooms`` and ``/commands``. Pure functions of the text before the
cursor and the names known, so the rules are tested without a screen."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import emoji

from tchat_client.tui.slash import COMMANDS

__all__ = ["Candidate", "Completion", "complete", "emoji_shortcodes"]

_TOKEN = re.compile(r"(?:^|(?<=\s))([:@#/][\w.+\-]*)$")


@dataclass(frozen=True, slots=True)
class Candidate:
    insert: str
    """The text that replaces the token (with a trailing space)."""
    label: str
    """What the menu shows."""


@dataclass(frozen=True, slots=True)
class Completion:
    start: int
    """Offset in the text before the cursor where the token begins."""
    candidates: tuple[Candidate, ...]


@cache
def emoji_shortcodes() -> tuple[tuple[str, str], ...]:
    """(shortcode without colons, emoji) for every fully-qualified emoji and alias."""
    found: dict[str, str] = {}
    for char, data in emoji.EMOJI_DATA.items():
        if data.get("status") != emoji.STATUS["fully_qualified"]:
            continue
        for code in (data["en"], *data.get("alias", ())):
            name = code.strip(":")
            if name.isascii():
                found.setdefault(name.lower(), char)
    return tuple(sorted(found.items(), key=lambda item: (len(item[0]), item[0])))


def _ranked(query: str, names: Iterable[str], limit: int) -> list[str]:
    wanted = query.casefold()
    starts = [n for n in names if n.casefold().startswith(wanted)]
    inside = [n for n in names if wanted in n.casefold() and n not in starts]
    return (sorted(starts, key=lambda n: (len(n), n)) + sorted(inside, key=len))[:limit]


def complete(
    before_cursor: str,
    *,
    people: Iterable[str] = (),
    rooms: Iterable[str] = (),
    limit: int = 8,
) -> Completion | None:
    """Candidates for the token ending at the cursor, or None when there is none."""
    match = _TOKEN.search(before_cursor)
    if match is None:
        return None
    token = match.group(1)
    sigil, query = token[0], token[1:]
    start = match.start(1)
    candidates: list[Candidate] = []
    if sigil == ":":
        if len(query) < 2:
            return None
        table = dict(emoji_shortcodes())
        for name in _ranked(query, table, limit):
            candidates.append(Candidate(f":{name}: ", f"{table[name]}  :{name}:"))
    elif sigil == "@":
        names = [*people, "here", "room"]
        candidates = [Candidate(f"@{n} ", f"@{n}") for n in _ranked(query, names, limit)]
    elif sigil == "#":
        candidates = [Candidate(f"#{n} ", f"#{n}") for n in _ranked(query, list(rooms), limit)]
    elif sigil == "/":
        if before_cursor[:start].strip():
            return None  # commands only at the start of the message
        for name in _ranked(query, list(COMMANDS), limit):
            args, what = COMMANDS[name]
            candidates.append(
                Candidate(f"/{name} ", f"/{name} {args}  — {what}".replace("  — ", " — "))
            )
    if not candidates:
        return None
    return Completion(start, tuple(candidates))
