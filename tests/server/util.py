"""Helpers for the server acceptance tests: post, round-trip, count rows."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

from shared.frames import Ack, Error, Ping, Pong, Send
from tests.conftest import Running
from tests.wire import Wire, next_rid

__all__ = [
    "FAST",
    "StartServer",
    "assert_untouched",
    "error_for",
    "message_count",
    "post",
    "post_many",
    "room_id",
    "round_trip",
    "seqs_in",
]

FAST: dict[str, object] = {"rate_per_second": 100_000.0, "rate_burst": 100_000}
"""Overrides for tests that post far more than a person types."""

StartServer = Callable[..., Awaitable[Running]]
"""The ``start_server`` fixture: start a server on the test's data directory."""

_cids = itertools.count(1)


def room_id(wire: Wire, name: str = "general") -> int:
    """The id of a room by name, from the wire's welcome."""
    assert wire.welcome is not None
    return next(room.id for room in wire.welcome.rooms if room.name == name)


async def round_trip(wire: Wire) -> Pong:
    """A Ping answered by its Pong: the connection is alive and being served."""
    rid = next_rid()
    await wire.send(Ping(rid=rid))
    return await wire.find(Pong, where=lambda pong: pong.rid == rid)


async def post(wire: Wire, room: int, body: str, cid: str | None = None) -> Ack:
    """Send one message and wait for its ack."""
    cid = cid or f"c{next(_cids)}"
    await wire.send(Send(client_msg_id=cid, body=body, room=room))
    return await wire.find(Ack, where=lambda ack: ack.client_msg_id == cid)


async def post_many(wire: Wire, room: int, count: int, prefix: str, padding: str = "") -> list[Ack]:
    """Pipeline ``count`` sends, then wait for every ack (acks come in send order)."""
    cids = [f"{prefix}-{n}" for n in range(count)]
    for n, cid in enumerate(cids):
        body = f"{prefix} message {n}{padding}"
        await wire.send(Send(client_msg_id=cid, body=body, room=room))
    await wire.find(Ack, where=lambda ack: ack.client_msg_id == cids[-1], timeout=30)
    wanted = set(cids)
    acks = [ack for ack in wire.seen(Ack) if ack.client_msg_id in wanted]
    assert [ack.client_msg_id for ack in acks] == cids
    return acks


async def error_for(wire: Wire, *, rid: str | None = None, cid: str | None = None) -> Error:
    """The error frame naming a request."""
    assert rid is not None or cid is not None
    return await wire.find(
        Error,
        where=lambda e: (rid is None or e.rid == rid) and (cid is None or e.client_msg_id == cid),
    )


async def message_count(srv: Running) -> int:
    count: int = await srv.services.message_store.count()
    return count


async def seqs_in(srv: Running, room: int) -> list[int]:
    rows = await srv.services.db.fetch_all(
        "SELECT seq FROM messages WHERE room_id = ? ORDER BY seq", (room,)
    )
    return [row[0] for row in rows]


async def assert_untouched(srv: Running, bystanders: list[Wire], rows: int) -> None:
    """Nothing was stored and everyone else is still served."""
    assert await message_count(srv) == rows
    for wire in bystanders:
        assert wire.closed is None
        await round_trip(wire)
