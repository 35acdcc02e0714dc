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
    "away": ("[TEXT]", "set your status to away"),
    "dnd": ("[TEXT]", "do not disturb"),
    "back": ("", "set your status to online"),
    "help": ("", "show keys and commands"),
    "quit": ("", "leave tchat"),
}
"""name -> (arguments, what it does): the completion menu and help read this."""


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
    needs = {"join": 1, "create": 1, "dm": 1, "invite": 1, "topic": 1, "me": 1}
    if len(args) < needs.get(name, 0):
        usage, _ = COMMANDS[name]
        raise SlashError(f"usage: /{name} {usage}")
    return Command(name, args, rest)


def unescape(line: str) -> str:
    """``//text`` sends ``/text`` as a message."""
    return line[1:] if line.lstrip().startswith("//") else line
