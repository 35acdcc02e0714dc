"""``tchat search QUERY``: full-text search over one's rooms, newest first."""

from __future__ import annotations

import argparse

from tchat_client import output
from tchat_client.commands.common import connected
from tchat_client.exits import ExitCode

__all__ = ["search"]


async def search(args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    async with connected(args) as client:
        found = await client.search(query, limit=args.limit)
        rooms = dict(client.state.rooms)
    for message in found:
        room = rooms.get(message.room or 0)
        if args.json:
            print(output.message_json(message, room))
        else:
            label = room.label if room else f"room {message.room}"
            print(output.search_text(message, label))
    return ExitCode.OK
