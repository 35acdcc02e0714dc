"""Presence is announced in rounds: a burst of connections reaches each member as
batched frames, and a user who drops and comes back within a round is never
announced offline (nor online again)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from shared.frames import Ok, PresenceChanged, SetPresence
from tests.conftest import Running


def _about(user: str) -> Callable[[PresenceChanged], bool]:
    return lambda p: p.user == user


def _answering(rid: str) -> Callable[[Ok], bool]:
    return lambda o: o.rid == rid


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_a_burst_of_connections_reaches_each_member_batched(srv: Running) -> None:
    names = [f"user{n}" for n in range(6)]
    for name in ["alice", *names]:
        await srv.user(name)
    alice = await srv.connect("alice")
    await alice.find(PresenceChanged, where=lambda p: p.user == "alice")  # her own round
    presence = srv.services.presence
    presence.flush_delay = 30.0  # one round for the whole burst, flushed below
    wires = await asyncio.gather(*(srv.connect(name) for name in names))
    assert len(alice.seen(PresenceChanged)) == 1  # nothing new yet: the round is open
    before = len(alice.batches)
    presence.flush()
    online = [await alice.find(PresenceChanged, where=_about(n)) for n in names]
    assert {p.status for p in online} == {"online"}
    assert len(alice.batches) == before + 1  # six people, one WebSocket message
    assert alice.batches[-1] == len(names)
    # Each newcomer hears of itself too, and the welcome already listed who was on.
    last = wires[-1]
    assert last.welcome is not None
    assert {p.user for p in last.welcome.presence} >= {"alice", names[-1]}
    assert (await last.find(PresenceChanged, where=lambda p: p.user == names[-1])).status == (
        "online"
    )


async def test_a_reconnect_within_the_round_is_not_announced(srv: Running) -> None:
    for name in ("alice", "bob"):
        await srv.user(name)
    alice = await srv.connect("alice")
    bob = await srv.connect("bob")
    await alice.find(PresenceChanged, where=lambda p: p.user == "bob")
    presence, hub = srv.services.presence, srv.services.hub
    bob_id = next(s.user_id for s in hub.all_sessions() if s.user_name == "bob")
    presence.flush_delay = 30.0
    await bob.close()
    await _until(lambda: not hub.is_online(bob_id))  # the server saw bob go
    again = await srv.connect("bob")
    presence.flush()  # the round: bob is online, as last announced
    await again.send(SetPresence(status="away", text="", rid="s"))
    await again.find(Ok, where=lambda o: o.rid == "s")
    presence.flush()
    await alice.find(PresenceChanged, where=lambda p: p.status == "away")
    assert [p.status for p in alice.seen(PresenceChanged) if p.user == "bob"] == [
        "online",
        "away",
    ]


async def test_a_change_undone_within_the_round_is_not_announced(srv: Running) -> None:
    for name in ("alice", "bob"):
        await srv.user(name)
    alice = await srv.connect("alice")
    bob = await srv.connect("bob")
    await alice.find(PresenceChanged, where=lambda p: p.user == "bob")
    srv.services.presence.flush_delay = 30.0
    for status, rid in (("dnd", "a"), ("online", "b")):
        await bob.send(SetPresence(status=status, text="", rid=rid))  # type: ignore[arg-type]
        await bob.find(Ok, where=_answering(rid))
    srv.services.presence.flush()
    await bob.send(SetPresence(status="away", text="out", rid="c"))
    await bob.find(Ok, where=lambda o: o.rid == "c")
    srv.services.presence.flush()
    away = await alice.find(PresenceChanged, where=lambda p: p.status == "away")
    assert away.text == "out"
    assert [p.status for p in alice.seen(PresenceChanged) if p.user == "bob"] == [
        "online",
        "away",
    ]
