"""Moderation from the composer: ``/kick``, ``/ban``, ``/mute``, ``/role``, ``/slow``,
``/lock`` and their opposites, the system lines that ``room_moderated`` becomes, and
the hint that says why the user cannot post.

The server decides every action: these functions only turn typed words into
client calls and events into sentences. Nothing here is hidden or refused on the
client's own judgement beyond a usage error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any

from tchat_client.core.events import MessageStateChanged, ModerationNotice
from tchat_client.core.models import Room
from tchat_client.sanitize import visible_line
from tchat_client.tui.model import ShownMessage
from tchat_client.tui.slash import Command, SlashError, usage

if TYPE_CHECKING:
    from tchat_client.tui.screens.main import MainScreen

__all__ = [
    "MAX_SLOW",
    "ModerationView",
    "format_duration",
    "moderation_args",
    "moderation_call",
    "notice_text",
    "parse_duration",
    "post_hint",
]

MAX_SLOW = 21_600
"""The longest slow mode the server takes (6 h)."""

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw]?)", re.IGNORECASE)
MODERATION_COMMANDS = frozenset(
    {"kick", "ban", "unban", "mute", "unmute", "role", "op", "deop", "slow", "lock", "unlock"}
)


def parse_duration(text: str) -> float | None:
    """Seconds for ``90``, ``30s``, ``5m``, ``2h``, ``7d``, ``1w`` or ``1h30m``;
    None when ``text`` is not a duration (so it can be a reason's first word)."""
    spec = text.strip().lower()
    if not spec:
        return None
    total = 0.0
    at = 0
    while at < len(spec):
        match = _DURATION.match(spec, at)
        if match is None:
            return None
        total += float(match.group(1)) * _UNITS[match.group(2) or "s"]
        at = match.end()
    return total if total > 0 else None


def format_duration(seconds: float) -> str:
    """``45 s``, ``10 min``, ``2 h``, ``1 h 30 min``, ``3 days``: rounded to what a
    person would say."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest} min" if rest and hours < 6 else f"{round(minutes / 60)} h"
    days = round(hours / 24)
    return "1 day" if days == 1 else f"{days} days"


def _user(word: str) -> str:
    return word.removeprefix("@")


def _duration_and_reason(command: Command) -> tuple[float | None, str]:
    """``/ban @bob 2h spamming`` -> (7200, "spamming"); the duration is optional
    and needs a unit (``30m``, ``2h``, ``7d``)."""
    words = command.rest.split(maxsplit=2)
    if len(words) > 1:
        # A bare number is not a duration here: "/ban bob 2 links in a row" is a reason.
        duration = None if words[1].isdigit() else parse_duration(words[1])
        if duration is not None:
            return duration, words[2] if len(words) > 2 else ""
        return None, command.rest.split(maxsplit=1)[1]
    return None, ""


def slow_seconds(word: str) -> int:
    """``/slow`` argument: ``off``/``0`` is 0, else a duration up to 6 hours.

    Raises:
        SlashError: not a duration, or too long.
    """
    if word.lower() in {"off", "0", "no"}:
        return 0
    seconds = parse_duration(word)
    if seconds is None:
        raise SlashError(usage("slow"))
    if seconds > MAX_SLOW:
        raise SlashError("slow mode is at most 6h")
    return max(1, round(seconds))


Call = tuple[str, tuple[object, ...], dict[str, object]]
"""(method of ``client.moderation``, positional arguments, keyword arguments)."""


def moderation_args(room_id: int, command: Command) -> Call:
    """What a moderation command asks of ``client.moderation``, from its words.

    Raises:
        SlashError: arguments that do not make a command (usage shown).
    """
    name = command.name
    if name in {"lock", "unlock"}:
        return "lock", (room_id,), {"locked": name == "lock"}
    if name == "slow":
        return "slow_mode", (room_id, slow_seconds(command.args[0])), {}
    user = _user(command.args[0])
    if name == "kick":
        reason = command.rest.split(maxsplit=1)[1] if len(command.args) > 1 else ""
        return "kick", (room_id, user), {"reason": reason}
    if name in {"ban", "mute"}:
        duration, reason = _duration_and_reason(command)
        return name, (room_id, user), {"duration": duration, "reason": reason}
    if name in {"unban", "unmute"}:
        return name, (room_id, user), {}
    role = {"op": "moderator", "deop": "member"}.get(name) or command.args[1].lower()
    return "set_role", (room_id, user, role), {}


def moderation_call(client: Any, room: Room, command: Command) -> tuple[Awaitable[object], str]:
    """The client call for a moderation command, and what to say if it is refused.

    Raises:
        SlashError: arguments that do not make a command (usage shown).
    """
    method, args, kwargs = moderation_args(room.id, command)
    if method == "set_role":
        what = f"make {args[1]} {args[2]}"
    elif method == "slow_mode":
        what = "set slow mode"
    elif method == "lock":
        what = f"{command.name} {room.label}"
    else:
        what = f"{command.name} {args[1]}"
    return getattr(client.moderation, method)(*args, **kwargs), f"Could not {what}"


# --------------------------------------------------------------------- notices

_ROLE_WORDS = {"owner": "an owner", "moderator": "a moderator", "member": "a member"}


def notice_text(notice: ModerationNotice, now: float | None = None) -> str:
    """The transcript's system line for a ``room_moderated`` event, e.g. "alice
    kicked bob (spam)", "alice muted bob for 10 min", "slow mode: 30 s between
    messages" (plain text: the screen sanitises and styles it)."""
    now = time.time() if now is None else now
    by, user = notice.by, notice.user or "someone"
    why = f" ({notice.reason})" if notice.reason else ""
    span = ""
    if notice.until:
        span = f" for {format_duration(notice.until - now)}"
    action = notice.action
    if action == "kick":
        return f"{by} kicked {user}{why}"
    if action == "ban":
        return f"{by} banned {user}{span}{why}"
    if action == "unban":
        return f"{by} lifted the ban on {user}"
    if action == "mute":
        return f"{by} muted {user}{span}{why}"
    if action == "unmute":
        return f"{by} unmuted {user}"
    if action == "role":
        return f"{by} made {user} {_ROLE_WORDS.get(notice.role or '', notice.role or '?')}"
    if action == "slow_mode":
        if notice.seconds:
            return f"{by} set slow mode: {format_duration(notice.seconds)} between messages"
        return f"{by} turned slow mode off"
    if action == "lock":
        return f"{by} locked the room: only moderators can post"
    if action == "unlock":
        return f"{by} unlocked the room"
    if action == "delete":
        whose = f" by {user}" if notice.user else ""
        return f"{by} deleted a message{whose}{why}"
    return f"{by}: {action} {user}{why}"


def about_me(notice: ModerationNotice, me: str, room_label: str) -> str | None:
    """A toast for the person acted on (a kicked user no longer sees the room's
    transcript): "alice removed you from #ops (spam)"; None when it is not about them."""
    if not me or (notice.user or "").casefold() != me.casefold() or notice.by == me:
        return None
    why = f" ({notice.reason})" if notice.reason else ""
    span = f" for {format_duration(notice.until - time.time())}" if notice.until else ""
    if notice.action == "kick":
        return f"{notice.by} kicked you from {room_label}{why}"
    if notice.action == "ban":
        return f"{notice.by} banned you from {room_label}{span}{why}"
    if notice.action == "mute":
        return f"{notice.by} muted you in {room_label}{span}{why}"
    if notice.action == "unmute":
        return f"{notice.by} unmuted you in {room_label}"
    if notice.action == "role":
        return f"{notice.by} made you {_ROLE_WORDS.get(notice.role or '', '?')} in {room_label}"
    return None


# ------------------------------------------------------------------ the hint


def post_hint(room: Room | None, now: float | None = None) -> str:
    """Why the user cannot post here, or what slows them down ("" when nothing).
    A hint only: the server refuses or accepts each message."""
    if room is None:
        return ""
    now = time.time() if now is None else now
    if room.muted_until is not None and (room.muted_until == 0 or room.muted_until > now):
        if room.muted_until == 0:
            return "A moderator muted you here: you can read but not post"
        until = time.strftime("%H:%M", time.localtime(room.muted_until))
        return f"A moderator muted you here until {until}: you can read but not post"
    if room.locked and not room.can_moderate:
        return "This room is locked: only moderators and admins can post"
    if room.slow_mode and not room.can_moderate:
        return f"Slow mode: members may post once every {format_duration(room.slow_mode)}"
    return ""


# ------------------------------------------------------------- on the screen

KEPT = 50
"""Moderation lines remembered per room for when it is opened again."""


class ModerationView:
    """The main screen's side of moderation: each ``room_moderated`` as a system
    line in its room's transcript (kept, so that a room opened later shows it), a
    toast for the person acted on, and the posting hint over the composer."""

    def __init__(self, screen: MainScreen) -> None:
        self._screen = screen
        self._lines: dict[int, list[tuple[int, float, str]]] = {}
        self._labels: dict[int, str] = {}
        """room -> (its latest seq then, when, the line), oldest first."""

    def notice(self, notice: ModerationNotice) -> None:
        screen = self._screen
        now = time.time()
        text = visible_line(notice_text(notice, now))
        room = screen.client.state.rooms.get(notice.room_id)
        if room is not None:
            self._labels[room.id] = room.label
        kept = self._lines.setdefault(notice.room_id, [])
        kept.append((room.latest_seq if room else 0, now, text))
        del kept[:-KEPT]
        if notice.room_id == screen.active:
            screen.transcript.add_notice(text, now)
        label = self._labels.get(notice.room_id, "a room")
        mine = about_me(notice, screen.client.state.me, label)
        if mine is not None:
            bad = notice.action in {"kick", "ban", "mute"}
            screen.notify(
                visible_line(mine),
                severity="warning" if bad else "information",
                timeout=10,
                markup=False,
            )

    def fill(self, room_id: int, messages: list[ShownMessage]) -> None:
        """Show a room just opened: its messages with its moderation lines where
        they happened (after the message that was the latest then). Lines older
        than every message held are left out: they belong to unloaded history."""
        transcript = self._screen.transcript
        stored = [m.seq for m in messages if m.seq is not None]
        first = min(stored) if stored else 0
        rest = messages
        for after, ts, text in self._lines.get(room_id, []):
            if after < first - 1:
                continue
            before = [m for m in rest if m.seq is not None and m.seq <= after]
            if before:
                transcript.extend(before)
                rest = [m for m in rest if m.seq is None or m.seq > after]
            transcript.add_notice(text, ts)
        transcript.extend(rest)

    def send_state(self, event: MessageStateChanged) -> None:
        """A message the server refused: for good (a toast with its reason), or for
        now (slow mode, rate limit: a line over the composer until it goes)."""
        screen = self._screen
        key = f"wait:{event.client_msg_id}"
        if event.state == "queued" and event.error:
            screen.show_progress(key, f"Waiting to send: {visible_line(event.error)}")
            return
        screen.show_progress(key, None)
        if event.state == "failed" and event.error:
            screen.notify(
                visible_line(event.error), title="Not sent", severity="error", markup=False
            )

    def hint(self) -> str:
        """The posting hint for the room on screen (also remembers its name, for a
        notice that comes after the room was removed: "bob kicked you from #ops")."""
        room = self._screen.room
        if room is not None:
            self._labels[room.id] = room.label
        return post_hint(room)

    def remember(self, rooms: Iterable[Room]) -> None:
        """Names of the rooms shown, for notices about a room already removed."""
        self._labels.update((room.id, room.label) for room in rooms)
