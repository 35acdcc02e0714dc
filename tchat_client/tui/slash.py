"""Slash commands typed in the composer: parsing only (no textual, no network).

``parse`` turns a line into a ``Command`` (or None for an ordinary message); the
screen carries it out through the client core, and the server checks every right.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COMMANDS", "Command", "SlashError", "parse"]

COMMANDS: dict[str, tuple[str, str]] = {
    "join": ("#channel", "join a public channel"),
    "leave": ("[#room]", "leave this room (or the one named)"),
    "create": ("#channel | group NAME [@user…]", "create a channel, or a private group"),
    "dm": ("@user [message]", "open a direct conversation"),
    "invite": ("@user", "invite someone to this room"),
    "topic": ("TEXT", "set this room's topic"),
    "me": ("ACTION", "say what you are doing, in the third person"),
    "upload": ("PATH [caption]", "send a file to this room"),
    "notify": ("all|mentions|none|mute|unmute", "when this room alerts you"),
    "unread": ("", "jump to the first unread message here"),
    "markunread": ("", "mark this room unread from its last message"),
    "away": ("[TEXT]", "set your status to away"),
    "dnd": ("[TEXT]", "do not disturb"),
    "back": ("", "set your status to online"),
    "kick": ("@user [reason]", "remove someone from this room"),
    "ban": ("@user [30m|2h|7d] [reason]", "remove and keep out (for a while)"),
    "unban": ("@user", "let a banned user back in"),
    "mute": ("@user [10m|1h] [reason]", "stop someone posting here (for a while)"),
    "unmute": ("@user", "let a muted member post again"),
    "role": ("@user owner|moderator|member", "set someone's role in this room"),
    "op": ("@user", "make someone a moderator here"),
    "deop": ("@user", "make a moderator a member again"),
    "slow": ("30s|5m|off", "slow mode: time between two messages of a member"),
    "lock": ("", "only moderators may post here"),
    "unlock": ("", "everyone may post here again"),
    "help": ("", "show keys and commands"),
    "quit": ("", "leave tchat"),
}
"""name -> (arguments, what it does): the completion menu and help read this."""

NOTIFY_CHOICES = ("all", "mentions", "none", "mute", "unmute")
ROLES = ("owner", "moderator", "member")
_NEEDS = {
    "join": 1,
    "create": 1,
    "dm": 1,
    "invite": 1,
    "topic": 1,
    "me": 1,
    "upload": 1,
    "notify": 1,
    "kick": 1,
    "ban": 1,
    "unban": 1,
    "mute": 1,
    "unmute": 1,
    "role": 2,
    "op": 1,
    "deop": 1,
    "slow": 1,
}
"""How many arguments a command needs at least."""


class SlashError(ValueError):
    """A command line that cannot be carried out as typed (shown to the user)."""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: tuple[str, ...] = ()
    rest: str = ""
    """Everything after the command name, as typed (for /topic, /me, /away…)."""


def parse(line: str) -> Command | None:
    """A ``Command`` for ``/name args…``; None for a message (``//x`` sends ``/x``).

    Raises:
        SlashError: unknown command or missing argument.
    """
    text = line.strip()
    if not text.startswith("/") or text.startswith("//"):
        return None
    head, _, rest = text[1:].partition(" ")
    name = head.lower()
    if name not in COMMANDS:
        raise SlashError(f"unknown command /{head} (try /help)")
    rest = rest.strip()
    args = tuple(rest.split())
    if len(args) < _NEEDS.get(name, 0):
        usage, _ = COMMANDS[name]
        raise SlashError(f"usage: /{name} {usage}")
    if name == "notify" and args[0].lower() not in NOTIFY_CHOICES:
        raise SlashError(f"usage: /notify {COMMANDS['notify'][0]}")
    if name == "role" and args[1].lower() not in ROLES:
        raise SlashError(f"usage: /role {COMMANDS['role'][0]}")
    return Command(name, args, rest)


def usage(name: str) -> str:
    """``usage: /name ARGS`` for an error message."""
    return f"usage: /{name} {COMMANDS[name][0]}".rstrip()


def unescape(line: str) -> str:
    """``//text`` sends ``/text`` as a message."""
    return line[1:] if line.lstrip().startswith("//") else line
