"""``tchat kick``, ``ban``, ``unban``, ``mute``, ``unmute``, ``role``, ``slow``,
``lock`` and ``unlock``: moderation from a script.

The server decides who may: a refusal (``forbidden``) is one line on stderr and
exit code 1, and nothing changed. Success prints one confirming line on stderr.
"""

from __future__ import annotations

import argparse

from tchat_client.commands.common import connected, find_room, warn
from tchat_client.exits import ExitCode
from tchat_client.sanitize import visible_line

__all__ = ["ban", "kick", "lock", "mute", "role", "slow", "unban", "unlock", "unmute"]


def _for(seconds: float | None) -> str:
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f" for {int(seconds // size)}{unit}"
    return f" for {seconds:g}s"


async def kick(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.moderation.kick(room.id, args.user, args.reason)
    warn(f"kicked {visible_line(args.user)} from {room.label}")
    return ExitCode.OK


async def ban(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.moderation.ban(room.id, args.user, args.duration, args.reason)
    warn(f"banned {visible_line(args.user)} from {room.label}{_for(args.duration)}")
    return ExitCode.OK


async def unban(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.moderation.unban(room.id, args.user)
    warn(f"unbanned {visible_line(args.user)} in {room.label}")
    return ExitCode.OK


async def mute(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.moderation.mute(room.id, args.user, args.duration, args.reason)
    warn(f"muted {visible_line(args.user)} in {room.label}{_for(args.duration)}")
    return ExitCode.OK


async def unmute(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.moderation.unmute(room.id, args.user)
    warn(f"unmuted {visible_line(args.user)} in {room.label}")
    return ExitCode.OK


async def role(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.moderation.set_role(room.id, args.user, args.role)
    warn(f"{visible_line(args.user)} is now {args.role} of {room.label}")
    return ExitCode.OK


async def slow(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.moderation.slow_mode(room.id, args.seconds)
    state = f"{args.seconds} s between messages" if args.seconds else "off"
    warn(f"slow mode in {room.label}: {state}")
    return ExitCode.OK


async def lock(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.moderation.lock(room.id, True)
    warn(f"locked {room.label}: only moderators may post")
    return ExitCode.OK


async def unlock(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.moderation.lock(room.id, False)
    warn(f"unlocked {room.label}")
    return ExitCode.OK
