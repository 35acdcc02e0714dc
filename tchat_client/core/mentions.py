"""Who a message mentions, and whether it should alert the user.

The server counts mentions for the unread badges; a client still has to decide,
per message as it arrives, whether to ring the bell or show a toast. These are
plain functions of a message, a room and the user's name so that the TUI, the
state's live counts and the tests agree on one rule (docs/PROTOCOL.md, "Mentions
and notification levels"):

* ``@name`` mentions that user (case-insensitive, the name must end at a word
  boundary: ``@bob`` is not in ``@bobby``);
* ``@room``, ``@channel`` and ``@everyone`` mention every member;
* ``@here`` mentions every member connected when the message was stored.
"""

from __future__ import annotations

import re

from tchat_client.core.models import Message, Room

__all__ = ["BROADCASTS", "mentioned_names", "mentions_me", "should_alert"]

_MENTION = re.compile(r"(?<![\w@])@([\w.\-]{2,32})")
"""``@`` not glued to a word or another ``@`` (``a@b.c`` is an address), then a
name: letters, digits, ``_``, ``.`` and ``-`` (as the server's mention syntax)."""

BROADCASTS = frozenset({"room", "channel", "everyone"})
"""Names that mention every member of the room."""

HERE = "here"


def mentioned_names(body: str) -> set[str]:
    """Every name mentioned in ``body``, case-folded, trailing ``.``/``-`` dropped
    (``@bob.`` at the end of a sentence is ``bob``)."""
    return {name.rstrip(".-").casefold() for name in _MENTION.findall(body)}


def mentions_me(message: Message, me: str, *, online_when_sent: bool = True) -> bool:
    """True when ``message`` mentions ``me``: by name, by ``@room``/``@channel``/
    ``@everyone``, or by ``@here`` when ``me`` was online as it was sent (a live
    message: yes; one read later from history: the caller knows better). A
    deleted message, and one's own, mention nobody."""
    if message.deleted or not me or message.author.casefold() == me.casefold():
        return False
    names = mentioned_names(message.body)
    if me.casefold() in names or names & BROADCASTS:
        return True
    return online_when_sent and HERE in names


def should_alert(room: Room, message: Message, me: str, *, online_when_sent: bool = True) -> bool:
    """Whether a new ``message`` in ``room`` should alert ``me`` (bell, toast):
    never for one's own or a deleted message; in a muted room, or at level
    ``none``, never; at ``mentions``, only when it mentions ``me``; at ``all``,
    always. A DM is always addressed to ``me``: level ``mentions`` alerts on
    every DM message."""
    if message.deleted or message.author.casefold() == me.casefold():
        return False
    if room.muted or room.notify == "none":
        return False
    if room.notify == "all" or room.kind == "dm":
        return True
    return mentions_me(message, me, online_when_sent=online_when_sent)
