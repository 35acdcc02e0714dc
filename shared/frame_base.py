"""Field types and the base class every wire frame derives from.

Kept apart from the frames themselves so that each group of frames (core, message
changes, files, moderation) can live in its own module and the unions in
``shared.frames`` can gather them all.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

MAX_ID = 2**53 - 1
"""Ids and seqs stay within the integers JavaScript can hold exactly."""

# Field types. Lengths are in characters (code points).
Rid = Annotated[str, Meta(min_length=1, max_length=64)]
ClientMsgId = Annotated[str, Meta(min_length=1, max_length=64)]
RoomId = Annotated[int, Meta(ge=1, le=MAX_ID)]
Seq = Annotated[int, Meta(ge=0, le=MAX_ID)]
Name = Annotated[str, Meta(min_length=1, max_length=80)]
Token = Annotated[str, Meta(min_length=1, max_length=128)]
Password = Annotated[str, Meta(max_length=1024)]
Body = Annotated[str, Meta(max_length=16_384)]
"""Protocol ceiling; the server's configured limit (default 4,000) is lower."""
Topic = Annotated[str, Meta(max_length=500)]
StatusText = Annotated[str, Meta(max_length=100)]
ClientName = Annotated[str, Meta(max_length=64)]
PageLimit = Annotated[int, Meta(ge=1, le=200)]
SearchLimit = Annotated[int, Meta(ge=1, le=100)]
SearchText = Annotated[str, Meta(max_length=500)]
Timestamp = float
"""Seconds since the Unix epoch (UTC), as the server's clock saw it."""

RoomKind = Literal["channel", "group", "dm"]
PresenceStatus = Literal["online", "away", "dnd", "offline"]
SettableStatus = Literal["online", "away", "dnd"]


def has_forbidden_char(text: str) -> bool:
    """True when text holds NUL or a lone surrogate: neither may reach storage."""
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class Frame(msgspec.Struct, tag_field="type", omit_defaults=True):
    """Base of every frame: tagged by ``type``, defaults omitted on the wire."""

    def __post_init__(self) -> None:
        for field in self.__struct_fields__:
            value = getattr(self, field)
            # Strings of the frame itself and in its lists (`create_room.members`).
            texts = value if isinstance(value, list) else (value,)
            if any(isinstance(t, str) and t and has_forbidden_char(t) for t in texts):
                raise ValueError(f"field `{field}` contains a NUL or lone surrogate")


# --------------------------------------------------------------------------- commands
