"""Password hashing with real argon2 parameters runs off the event loop."""

from __future__ import annotations

import asyncio
import statistics
import time

from shared.frames import PROTOCOL_VERSION, Login, Welcome
from tchat_server.config import Argon2Params
from tests.conftest import PASSWORD
from tests.server.util import FAST, StartServer, round_trip
from tests.wire import Wire


async def test_ten_concurrent_logins_do_not_stall_other_clients(
    start_server: StartServer,
) -> None:
    srv = await start_server(argon2=Argon2Params(), **FAST)
    names = [f"user{n}" for n in range(10)]
    await asyncio.gather(*(srv.user(name) for name in [*names, "bob"]))
    started = time.perf_counter()
    bob = await srv.connect("bob")
    one_login = time.perf_counter() - started  # one default-cost verify, alone
    wires = [await Wire.open(srv.url) for _ in names]
    srv.wires.extend(wires)

    started = time.perf_counter()
    for wire, name in zip(wires, names, strict=True):
        await wire.send(Login(protocol=PROTOCOL_VERSION, username=name, password=PASSWORD))
    logins = asyncio.gather(*(wire.find(Welcome, timeout=60) for wire in wires))
    rtts: list[float] = []
    while not logins.done():
        sent = time.perf_counter()
        await round_trip(bob)
        rtts.append(time.perf_counter() - sent)
    welcomes = await logins
    total = time.perf_counter() - started

    assert [w.user.name for w in welcomes] == names and all(w.token for w in welcomes)
    # Real parameters: a login costs a noticeable hash, ten of them a while...
    assert one_login > 0.05 and total > 2 * one_login, (one_login, total)
    # ...while bob is served throughout. A hash on the event loop would hold round
    # trips for a whole hash each (the median too); here the typical one takes a
    # small part of one. The median, not the maximum: on a loaded 2-core machine
    # the hashing threads can still delay one round trip by scheduling alone.
    assert len(rtts) >= 10, rtts
    assert statistics.median(rtts) < one_login / 4, (sorted(rtts), one_login, total)
