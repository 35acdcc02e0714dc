"""Alerts for messages in rooms that are not on screen: a toast, and the terminal
bell when the user wants it, as each room's notification level says.

The rule itself (level ``all`` / ``mentions`` / ``none``, a muted room, ``@me``,
``@here``, ``@room``) is the client core's ``should_alert``; this module only
decides *where* to show an alert and what it says.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from tchat_client.core.models import Message, Room
from tchat_client.core.state import should_alert
from tchat_client.sanitize import visible, visible_line

__all__ = ["alert_text", "maybe_alert", "notify_marker"]

SNIPPET = 120
"""Characters of the message shown in a toast."""


def alert_text(room: Room, message: Message) -> tuple[str, str]:
    """(title, body) of the toast: "bob in #general" / "bob", and the message's
    start (or the file it carries), made safe to show."""
    where = "" if room.kind == "dm" else f" in {room.label}"
    title = visible_line(f"{message.author}{where}")
    body = message.body.strip()
    if not body and message.file is not None:
        body = f"sent a file: {message.file.name}"
    if len(body) > SNIPPET:
        body = body[: SNIPPET - 1] + "…"
    return title, visible(body)


def maybe_alert(
    screen: Widget,
    room: Room,
    message: Message,
    me: str,
    active: int | None,
    *,
    live: bool = True,
) -> bool:
    """Toast (and ring) for ``message`` when it is someone else's, in a room other
    than the one on screen, and the room's level asks for it. True if it alerted.
    ``live=False`` while a resume replays what was missed: those messages are the
    away summary's, not a storm of toasts."""
    if not live or message.seq is None or message.author == me or room.id == active:
        return False
    if not should_alert(room, message, me):
        return False
    title, body = alert_text(room, message)
    # Someone else's text: shown, never interpreted (no escapes, no markup).
    screen.notify(body, title=title, timeout=6, markup=False)
    if getattr(screen.app, "bell_on_mention", False):
        screen.app.bell()
    return True


LEVEL_WORDS = {"all": "all messages", "mentions": "mentions only", "none": "no alerts"}


def default_level(room: Room) -> str:
    """The level a new member gets (the server's default): mentions in channels,
    every message in DMs and groups."""
    return "mentions" if room.kind == "channel" else "all"


def notify_marker(room: Room) -> Text:
    """How the header shows the room's level when the user changed it: "🔕 muted",
    "🔔 all messages", "🔔 mentions only", "🔕 no alerts" (nothing for the default)."""
    if room.muted:
        return Text("🔕 muted", style="dim")
    if room.notify == default_level(room):
        return Text("")
    bell = "🔕" if room.notify == "none" else "🔔"
    return Text(f"{bell} {LEVEL_WORDS.get(room.notify, room.notify)}", style="dim")
