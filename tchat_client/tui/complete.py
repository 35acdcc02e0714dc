"""What the composer offers to complete at the cursor: ``:emoji:`` shortcodes,
``@people``, ``#rooms``, ``/commands`` and their arguments (people for ``/kick``,
levels for ``/notify``, roles, slow mode spans, paths for ``/upload``). Pure
functions of the text before the cursor and the names known (and, for paths, the
file system), so the rules are tested without a screen."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import emoji

from tchat_client.tui.slash import COMMANDS, NOTIFY_CHOICES, ROLES

__all__ = ["Candidate", "Completion", "complete", "emoji_shortcodes"]

_TOKEN = re.compile(r"(?:^|(?<=\s))([:@#/][\w.+\-]*)$")
_PERSON_ARG = re.compile(
    r"^/(?:kick|ban|unban|mute|unmute|op|deop|role|dm|invite) +(@?[\w.\-]*)$", re.IGNORECASE
)
_WORD_ARG = re.compile(r"^/(notify|slow|role +\S+) +(\w*)$", re.IGNORECASE)
_PATH_ARG = re.compile(r"^/upload +(\S*)$", re.IGNORECASE)
_SLOW_CHOICES = ("10s", "30s", "1m", "5m", "15m", "1h", "off")


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
    people = list(people)
    argument = _argument(before_cursor, people, limit)
    if argument is not None:
        return argument
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
        if COMMANDS.get(query.lower(), ("?",))[0] == "":
            return None  # typed in full and takes nothing: Enter runs it
        for name in _ranked(query, list(COMMANDS), limit):
            args, what = COMMANDS[name]
            usage = f"/{name} {args}".rstrip()
            candidates.append(Candidate(f"/{name} ", f"{usage} — {what}"))
    if not candidates:
        return None
    return Completion(start, tuple(candidates))


def _argument(before_cursor: str, people: list[str], limit: int) -> Completion | None:
    """A command's argument: a person, a level or role, a span, or a path."""
    if match := _PERSON_ARG.match(before_cursor):
        query = match.group(1).removeprefix("@")
        if query in people:
            return None  # typed in full: Enter runs the command
        names = _ranked(query, people, limit)
        found = tuple(Candidate(f"@{n} ", f"@{n}") for n in names)
        return Completion(match.start(1), found) if found else None
    if match := _WORD_ARG.match(before_cursor):
        head = match.group(1).split()[0].lower()
        choices = {"notify": NOTIFY_CHOICES, "slow": _SLOW_CHOICES}.get(head, ROLES)
        query = match.group(2).lower()
        words = [c for c in choices if c.startswith(query)]
        if query in words:
            return None
        found = tuple(Candidate(f"{w} ", w) for w in words[:limit])
        return Completion(match.start(2), found) if found else None
    if match := _PATH_ARG.match(before_cursor):
        found = tuple(path_candidates(match.group(1), limit))
        return Completion(match.start(1), found) if found else None
    return None


def path_candidates(typed: str, limit: int = 8) -> list[Candidate]:
    """Files and folders that start with ``typed`` (``~`` expands; hidden ones only
    when asked for with a leading dot). A folder completes with ``/`` and no space,
    so that Tab goes on into it."""
    folder, _, start = typed.rpartition("/")
    base = os.path.expanduser(folder + "/" if folder or typed.startswith("/") else ".")
    try:
        with os.scandir(base) as entries:
            names = sorted(
                (e.name, e.is_dir())
                for e in entries
                if e.name.startswith(start)
                and (start.startswith(".") or not e.name.startswith("."))
            )
    except OSError:
        return []
    prefix = f"{folder}/" if folder or typed.startswith("/") else ""
    found = []
    for name, is_dir in names[:limit]:
        if " " in name:
            continue
        insert = f"{prefix}{name}/" if is_dir else f"{prefix}{name} "
        found.append(Candidate(insert, f"{name}/" if is_dir else name))
    return found
