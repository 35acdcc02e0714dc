"""Helpers for the tests of replies, edits, deletes, reactions and notify levels."""

from __future__ import annotations

import itertools
from typing import Any

from shared.frames import Ack, MessageInfo, MessageUpdated, Ok, Send
from tests.conftest import Running
from tests.server.util import error_for
from tests.wire import Wire

_cids = itertools.count(1)


async def people(srv: Running, *names: str) -> list[Wire]:
    """Make the users and connect each once."""
    for name in names:
        await srv.user(name)
    return [await srv.connect(name) for name in names]


async def ok(wire: Wire, frame: Any) -> Ok:
    """Send a command carrying ``rid`` and wait for its Ok."""
    await wire.send(frame)
    return await wire.find(Ok, where=lambda o: o.rid == frame.rid)


async def refused(wire: Wire, frame: Any) -> str:
    """Send a command carrying ``rid`` (or a send) and return its error code."""
    await wire.send(frame)
    if isinstance(frame, Send):
        return (await error_for(wire, cid=frame.client_msg_id)).code
    return (await error_for(wire, rid=frame.rid)).code


async def send(wire: Wire, room: int, body: str, **fields: Any) -> Ack:
    cid = f"x{next(_cids)}"
    await wire.send(Send(client_msg_id=cid, body=body, room=room, **fields))
    return await wire.find(Ack, where=lambda ack: ack.client_msg_id == cid)


async def updated(wire: Wire, seq: int, change: int | None = None) -> MessageInfo:
    """The next ``message_updated`` of message ``seq`` (at change ``change``)."""
    frame = await wire.expect(
        MessageUpdated,
        where=lambda u: u.message.seq == seq and (change is None or u.message.change == change),
    )
    return frame.message


async def row(srv: Running, room: int, seq: int) -> dict[str, Any]:
    """A message's row as SQLite holds it."""
    found = await srv.services.db.fetch_one(
        "SELECT * FROM messages WHERE room_id = ? AND seq = ?", (room, seq)
    )
    assert found is not None
    return dict(found)


async def latest_change(srv: Running, room: int) -> int:
    found = await srv.services.db.fetch_one("SELECT latest_change FROM rooms WHERE id = ?", (room,))
    assert found is not None
    return int(found[0])
