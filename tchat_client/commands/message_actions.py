"""``tchat edit``, ``delete``, ``react``, ``thread``, ``notify`` and
``mark-unread``: acting on stored messages and on how a room alerts you.

Each connects (flushing the outbox first, as every command does), asks, and
exits 0 once the server said ``ok``; a refusal is one line on stderr and the exit
code of ``exits.py`` (``forbidden``: 1, an unknown room: 3).
"""

from __future__ import annotations

import argparse

from tchat_client import output
from tchat_client.commands.common import connected, find_room, warn
from tchat_client.commands.messages import read_text
from tchat_client.exits import ExitCode, Failure

__all__ = ["delete", "edit", "mark_unread", "notify", "react", "thread"]


async def edit(args: argparse.Namespace) -> int:
    text = read_text(args)
    if not text.strip():
        raise Failure(ExitCode.ERROR, "nothing to change to: the text is empty")
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.edit(room.id, args.seq, text)
    return ExitCode.OK


async def delete(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.delete(room.id, args.seq)
    warn(f"deleted message #{args.seq} in {room.label}")
    return ExitCode.OK


async def react(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.react(room.id, args.seq, args.emoji, remove=args.remove)
    return ExitCode.OK


async def thread(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        parent, replies = await client.thread(room.id, args.seq)
    if args.json:
        for message in (parent, *replies):
            print(output.message_json(message, room))
        return ExitCode.OK
    print(output.message_text(parent, raw=args.raw))
    for reply in replies:
        # A thread's replies all answer the parent above: no quote under each.
        shown = output.message_text(reply, raw=args.raw, quote=False)
        print("\n".join("  " + line for line in shown.split("\n")))
    return ExitCode.OK


async def notify(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        if args.level in ("mute", "unmute"):
            await client.set_notify(room.id, muted=args.level == "mute")
            warn(f"{room.label} is {args.level}d")
        else:
            await client.set_notify(room.id, level=args.level)
            warn(f"{room.label} alerts you: {args.level}")
    return ExitCode.OK


async def mark_unread(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.mark_unread(room.id, args.seq)
    return ExitCode.OK
