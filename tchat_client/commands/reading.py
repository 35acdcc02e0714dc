"""``tchat rooms``, ``history`` and ``tail``: reading, and following a room.

Text output shows terminal escapes and other controls in message bodies as visible
symbols (``tchat_client.sanitize``); ``--raw`` prints bodies as they were sent,
and ``--json`` prints them exactly, JSON-escaped. Messages show as they now are:
``(edited)``, ``[deleted]``, the quote of the message a reply answers, file cards
and reactions (``output.message_text``; the same fields in ``--json``).

``tail -f`` prints a message again, whole, each time it changes (an edit, a
delete, a reaction: in ``--json`` the same ``seq`` with a higher ``change``), and
moderation in the room as a line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable

from tchat_client import output
from tchat_client.commands.common import connected, find_room, warn
from tchat_client.core.client import Client
from tchat_client.core.events import (
    ConnectionChanged,
    MessageAdded,
    MessageChanged,
    ModerationNotice,
    RoomRemoved,
    RoomReset,
    StateReset,
)
from tchat_client.core.models import Message, Room
from tchat_client.exits import ExitCode, Failure
from tchat_client.sanitize import visible_line

__all__ = ["history", "rooms", "tail"]


async def rooms(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        listed = list(client.state.rooms.values())
    print(output.rooms_json(listed) if args.json else output.rooms_text(listed))
    return ExitCode.OK


async def history(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        messages = await client.history(room.id, limit=args.limit)
    for message in messages:
        print(
            output.message_json(message, room)
            if args.json
            else output.message_text(message, raw=args.raw)
        )
    return ExitCode.OK


async def tail(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        stream = client.events()  # subscribed before the page is asked for: no gap
        messages = await client.history(room.id, limit=args.lines)
        show = _printer(args, room)
        for message in messages:
            show(message)
        if not args.follow:
            return ExitCode.OK
        last = (messages[-1].seq or 0) if messages else 0
        _stop_on_sigterm()
        try:
            async for event in stream:
                if isinstance(event, MessageAdded) and event.message.room == room.id:
                    if (event.message.seq or 0) > last:
                        show(event.message)
                        last = event.message.seq or last
                elif isinstance(event, MessageChanged) and event.message.room == room.id:
                    if 0 < (event.message.seq or 0) <= last:
                        show(event.message)
                elif isinstance(event, ModerationNotice) and event.room_id == room.id:
                    warn(moderation_line(event))
                elif isinstance(event, RoomReset) and event.room_id == room.id:
                    last = await _catch_up(client, room.id, last, show)
                elif isinstance(event, StateReset):
                    warn("the server's database was replaced: following the room anew")
                    room = find_room(client, args.target)
                    show = _printer(args, room)
                    last = room.latest_seq
                elif isinstance(event, RoomRemoved) and event.room_id == room.id:
                    raise Failure(ExitCode.UNKNOWN, f"you are no longer in {room.label}")
                elif isinstance(event, ConnectionChanged):
                    _report(event, client)
        except asyncio.CancelledError:
            return ExitCode.OK  # SIGTERM or Ctrl-C: the end of a follow is not an error
    return ExitCode.OK


async def _catch_up(
    client: Client, room_id: int, last: int, show: Callable[[Message], None]
) -> int:
    """Print everything after seq ``last`` (more was missed than a resume replays)."""
    while True:
        missed = await client.history_after(room_id, last, limit=1000)
        for message in missed:
            show(message)
            last = message.seq or last
        if len(missed) < 1000:
            return last


def _printer(args: argparse.Namespace, room: Room) -> Callable[[Message], None]:
    def show(message: Message) -> None:
        line = (
            output.message_json(message, room)
            if args.json
            else output.message_text(message, raw=args.raw)
        )
        print(line, flush=True)

    return show


def moderation_line(event: ModerationNotice) -> str:
    """``alice muted bob for 10m (reason)``, made safe to show."""
    who = visible_line(event.user) if event.user else ""
    what = {
        "kick": f"kicked {who}",
        "ban": f"banned {who}",
        "unban": f"unbanned {who}",
        "mute": f"muted {who}",
        "unmute": f"unmuted {who}",
        "role": f"made {who} {event.role or 'member'}",
        "slow_mode": f"set slow mode to {event.seconds} s" if event.seconds else "ended slow mode",
        "lock": "locked the room",
        "unlock": "unlocked the room",
        "delete": f"deleted message #{event.seq} of {who}" if who else f"deleted #{event.seq}",
    }.get(event.action, visible_line(event.action))
    reason = f" ({visible_line(event.reason)})" if event.reason else ""
    return f"{visible_line(event.by)} {what}{reason}"


def _report(event: ConnectionChanged, client: Client) -> None:
    if event.status == "disconnected":
        warn(f"{event.detail}; reconnecting in {event.retry_in or 0:.1f} s")
    elif event.status == "failed":
        raise client.failure or Failure(ExitCode.UNREACHABLE, event.detail)


def _stop_on_sigterm() -> None:
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
