"""The ``tchat`` subcommands for replies, edits, deletes, reactions, threads,
notification levels and moderation: their arguments only.

Kept out of ``cli.py`` so that it stays one screen of common commands; like it,
this imports nothing but ``argparse`` (``tchat --help`` stays fast). The
commands themselves are in ``commands/message_actions.py`` and
``commands/moderation.py``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

__all__ = ["add_chat_commands", "duration", "seconds_or_off"]

Command = Callable[[str, str], argparse.ArgumentParser]
"""``cli.py``'s ``command(name, help)``: a subparser with the common options."""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION = 366 * 86400
"""The longest timed ban or mute the server takes."""


def duration(text: str) -> float:
    """``30s``, ``10m``, ``2h``, ``1d`` (or bare seconds) as seconds."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30s, 10m, 2h, 1d)")
    seconds = float(match[1]) * _UNIT[match[2]]
    if not 0 < seconds <= MAX_DURATION:
        raise argparse.ArgumentTypeError("a duration is more than 0 and at most 366d")
    return seconds


def seconds_or_off(text: str) -> int:
    """Slow mode: ``off`` (0), bare seconds, or a duration up to 6 hours."""
    if text.strip().lower() in ("off", "0"):
        return 0
    seconds = duration(text)
    if seconds > 21_600 or seconds != int(seconds):
        raise argparse.ArgumentTypeError("slow mode takes whole seconds up to 6h, or off")
    return int(seconds)


def _seq(text: str) -> int:
    value = int(text.removeprefix("#"))
    if value < 1:
        raise argparse.ArgumentTypeError("a message number is at least 1")
    return value


_TARGET = "TARGET"
_TARGET_HELP = "#channel, @user (a DM) or a group's name"


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar=_TARGET, help=_TARGET_HELP)


def _message(parser: argparse.ArgumentParser) -> None:
    _target(parser)
    parser.add_argument(
        "seq", metavar="SEQ", type=_seq, help="the message's number (#12 in `tchat history`)"
    )


def add_chat_commands(command: Command) -> None:
    """Add every subcommand of this module through ``command``."""
    edit = command("edit", "replace the text of one of your messages")
    _message(edit)
    edit.add_argument("text", metavar="TEXT", nargs="*", help="the new text (default: stdin)")

    delete = command("delete", "delete a message (yours, or anyone's in a room you moderate)")
    _message(delete)

    react = command("react", "react to a message with an emoji (👍 or :thumbsup:)")
    _message(react)
    react.add_argument("emoji", metavar="EMOJI")
    react.add_argument("--remove", action="store_true", help="take your reaction back")

    thread = command("thread", "print a message and all its replies")
    _message(thread)
    thread.add_argument("--json", action="store_true", help="one JSON object per line")
    thread.add_argument("--raw", action="store_true", help="print bodies exactly as sent")

    notify = command(
        "notify",
        "when a room alerts you: all (every message), mentions (only @you, @here, "
        "@room), none; or mute / unmute it (no unread badge, no alerts)",
    )
    _target(notify)
    notify.add_argument("level", choices=["all", "mentions", "none", "mute", "unmute"])

    unread = command("mark-unread", "mark a room unread from a message on")
    _message(unread)

    def moderate(name: str, text: str, *, timed: bool = False, reason: bool = False) -> None:
        parser = command(name, text)
        _target(parser)
        parser.add_argument("user", metavar="USER")
        if timed:
            parser.add_argument(
                "--for",
                dest="duration",
                type=duration,
                metavar="DURATION",
                help="how long: 30s, 10m, 2h, 1d (default: until lifted)",
            )
        if reason:
            parser.add_argument("--reason", default="", help="shown to the room")

    moderate("kick", "remove a member from a room (they may come back)", reason=True)
    moderate("ban", "remove a member and keep them out", timed=True, reason=True)
    moderate("unban", "let a banned user back in")
    moderate("mute", "stop a member from posting, editing and reacting", timed=True, reason=True)
    moderate("unmute", "let a muted member post again")

    role = command("role", "set a member's role in a room (owners only)")
    _target(role)
    role.add_argument("user", metavar="USER")
    role.add_argument("role", choices=["owner", "moderator", "member"])

    slow = command("slow", "slow mode: members wait this long between two messages")
    _target(slow)
    slow.add_argument("seconds", metavar="SECONDS|off", type=seconds_or_off)

    lock = command("lock", "only moderators and owners may post in the room")
    _target(lock)
    unlock = command("unlock", "everyone may post in the room again")
    _target(unlock)
