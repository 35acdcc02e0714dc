"""Names a user types for a room: ``#channel``, ``@user`` (a DM) or a bare name.

A bare name finds a channel or a group (shells read an unquoted ``#`` as a
comment, so ``tchat send ops`` must work). Matching follows the server's
normalisation: NFKC, and room names in lower case, user names case-insensitively.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from tchat_client.core.models import Room

__all__ = ["Target", "parse_target", "resolve_target"]


@dataclass(frozen=True, slots=True)
class Target:
    kind: Literal["channel", "dm", "name"]
    name: str

    @property
    def label(self) -> str:
        return {"channel": "#", "dm": "@", "name": ""}[self.kind] + self.name


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def parse_target(text: str) -> Target:
    """Parse what the user typed.

    Raises:
        ValueError: the text is empty once its sigil is removed.
    """
    raw = unicodedata.normalize("NFKC", text.strip())
    kind: Literal["channel", "dm", "name"] = "name"
    if raw.startswith("#"):
        kind, raw = "channel", raw[1:]
    elif raw.startswith("@"):
        kind, raw = "dm", raw[1:]
    if not raw:
        raise ValueError(f"not a room or user: {text!r}")
    return Target(kind, raw)


def resolve_target(target: Target, rooms: Iterable[Room]) -> Room | None:
    """The room among ``rooms`` that ``target`` names, or None.

    ``#name`` prefers a channel but also finds a group (Slack shows private
    channels with ``#`` too); ``@user`` finds the DM with that user.
    """
    wanted = _fold(target.name)
    candidates = list(rooms)
    if target.kind == "dm":
        for room in candidates:
            if room.kind == "dm" and _fold(room.dm_user or room.name) == wanted:
                return room
        return None
    for kind in ("channel", "group"):
        for room in candidates:
            if room.kind == kind and _fold(room.name) == wanted:
                return room
    return None
