"""Resume: a returning client gets exactly what it missed, in order, once."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.frames import (
    History,
    HistoryPage,
    MessagePosted,
    Resumed,
    ResumeInfo,
    Welcome,
)
from tests.conftest import Running
from tests.server.util import FAST, StartServer, post, post_many, room_id, round_trip
from tests.wire import Wire, hello


async def go_offline(srv: Running, name: str) -> tuple[Wire, str, str]:
    """Log in once (for a token and the epoch), then disconnect."""
    wire = await srv.connect(name)
    assert wire.welcome is not None and wire.welcome.token is not None
    await wire.close()
    return wire, wire.welcome.token, wire.welcome.epoch


async def come_back(srv: Running, token: str, **fields: Any) -> Wire:
    wire = await hello(srv.url, token, **fields)
    srv.wires.append(wire)
    return wire


def replay_of(wire: Wire) -> tuple[list[MessagePosted], Resumed]:
    """The frames between the welcome and the (single) resumed frame."""
    assert isinstance(wire.frames[0], Welcome)
    kinds = [type(frame) for frame in wire.frames]
    assert kinds.count(Resumed) == 1
    end = kinds.index(Resumed)
    between = wire.frames[1:end]
    assert all(isinstance(frame, MessagePosted) for frame in between), between
    resumed = wire.frames[end]
    assert isinstance(resumed, Resumed)
    return between, resumed  # type: ignore[return-value]


async def test_offline_client_gets_exactly_the_500_it_missed(start_server: StartServer) -> None:
    srv = await start_server(**FAST)
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    general = room_id(alice)
    for n in range(3):
        await post(alice, general, f"seen {n}")
    _, token, epoch = await go_offline(srv, "bob")

    acks = await post_many(alice, general, 500, "missed")
    bob = await come_back(srv, token, epoch=epoch, resume={general: 3})
    replayed, resumed = replay_of(await _settled(bob))

    assert [p.message.seq for p in replayed] == list(range(4, 504))
    assert [p.message.seq for p in replayed] == [ack.seq for ack in acks]
    assert [p.message.body for p in replayed] == [f"missed message {n}" for n in range(500)]
    assert {p.message.author for p in replayed} == {"alice"}
    assert resumed.epoch_ok
    assert resumed.rooms == [ResumeInfo(room=general, from_seq=3, latest_seq=503, replayed=500)]

    # Live again: the next message arrives once, after the replay.
    ack = await post(alice, general, "live")
    live = await bob.find(MessagePosted, where=lambda p: p.message.seq == ack.seq)
    assert live.message.body == "live"
    assert [p.message.seq for p in bob.seen(MessagePosted)] == list(range(4, 505))


async def _settled(wire: Wire) -> Wire:
    await wire.find(Resumed)
    return wire


async def test_messages_posted_during_the_resume_are_neither_lost_nor_doubled(
    start_server: StartServer,
) -> None:
    srv = await start_server(**FAST)
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    general = room_id(alice)
    _, token, epoch = await go_offline(srv, "bob")
    last = 0
    for round_ in range(3):
        await post_many(alice, general, 150, f"before-{round_}")
        # The hello is in flight while alice keeps posting.
        during = asyncio.create_task(post_many(alice, general, 150, f"during-{round_}"))
        bob = await come_back(srv, token, epoch=epoch, resume={general: last})
        acks = await during
        newest = acks[-1].seq
        await bob.find(MessagePosted, where=lambda p, n=newest: p.message.seq == n)  # type: ignore[misc]

        seqs = [p.message.seq for p in bob.seen(MessagePosted)]
        assert seqs == list(range(last + 1, newest + 1)), f"round {round_}"
        replayed, resumed = replay_of(bob)
        assert len(replayed) >= 150
        info = resumed.rooms[0]
        assert (info.from_seq, info.replayed) == (last, info.latest_seq - last)
        await bob.close()
        last = newest


async def test_over_the_cap_nothing_is_replayed(start_server: StartServer) -> None:
    srv = await start_server(resume_cap=50, **FAST)
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    general = room_id(alice)
    _, token, epoch = await go_offline(srv, "bob")

    await post_many(alice, general, 50, "at-cap")
    bob = await come_back(srv, token, epoch=epoch, resume={general: 0})
    replayed, resumed = replay_of(await _settled(bob))
    assert len(replayed) == 50
    assert resumed.rooms == [ResumeInfo(room=general, from_seq=0, latest_seq=50, replayed=50)]
    await bob.close()

    await post_many(alice, general, 51, "over-cap")
    bob = await come_back(srv, token, epoch=epoch, resume={general: 50})
    replayed, resumed = replay_of(await _settled(bob))
    assert replayed == []
    assert resumed.rooms == [
        ResumeInfo(room=general, from_seq=50, latest_seq=101, replayed=0, truncated=True)
    ]
    # The client pages instead.
    await bob.send(History(room=general, rid="page", limit=10))
    page = await bob.find(HistoryPage, where=lambda p: p.rid == "page")
    assert [m.seq for m in page.messages] == list(range(92, 102)) and page.more


async def test_a_stale_epoch_replays_nothing(srv: Running) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    general = room_id(alice)
    _, token, epoch = await go_offline(srv, "bob")
    await post(alice, general, "while away")

    bob = await come_back(srv, token, epoch="0" * 16, resume={general: 0})
    replayed, resumed = replay_of(await _settled(bob))
    assert replayed == [] and resumed == Resumed(rooms=[], epoch_ok=False)
    assert bob.welcome is not None and bob.welcome.epoch == epoch != "0" * 16
    await bob.close()

    # Rooms one is not in (or that do not exist) are skipped, not an error.
    bob = await come_back(srv, token, epoch=epoch, resume={general: 1, 999: 0})
    replayed, resumed = replay_of(await _settled(bob))
    assert replayed == []
    assert resumed.rooms == [ResumeInfo(room=general, from_seq=1, latest_seq=1)]
    await round_trip(bob)


async def test_a_resume_larger_than_the_outbound_queue_is_delivered(
    start_server: StartServer,
) -> None:
    """The replay is bounded by the resume cap, not the live queue: a client that
    missed more than ``outbound_queue_frames`` messages is caught up, not dropped."""
    srv = await start_server(outbound_queue_frames=100, **FAST)
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    general = room_id(alice)
    _, token, epoch = await go_offline(srv, "bob")
    # In chunks, so that alice's own live queue never holds a burst of 100 frames.
    for chunk in range(8):
        await post_many(alice, general, 40, f"missed-{chunk}")

    during = asyncio.create_task(post_many(alice, general, 20, "during"))
    bob = await come_back(srv, token, epoch=epoch, resume={general: 0})
    await during
    await bob.find(MessagePosted, where=lambda p: p.message.seq == 340)
    await round_trip(bob)
    assert bob.closed is None
    assert [p.message.seq for p in bob.seen(MessagePosted)] == list(range(1, 341))


async def test_resuming_again_and_again_under_load_never_doubles_or_skips(
    start_server: StartServer,
) -> None:
    """Each resume races the group committer: a message can be visible to the
    resume's read before the committer has published it live (big replays, read
    while sends commit, make that window likely)."""
    srv = await start_server(resume_cap=5000, **FAST)
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    general = room_id(alice)
    _, token, epoch = await go_offline(srv, "bob")
    await post_many(alice, general, 400, "first")
    cycles = 0

    async def load() -> None:
        # 3,000 sends, and on until three resumes have raced them (however fast the
        # server stores them).
        rounds = 0
        while rounds < 6 or cycles < 3:
            await post_many(alice, general, 500, f"load{rounds}")
            rounds += 1

    posting = asyncio.create_task(load())
    while not posting.done():
        bob = await come_back(srv, token, epoch=epoch, resume={general: 0})
        await bob.find(Resumed)
        await round_trip(bob)
        await bob.close()
        seqs = [p.message.seq for p in bob.seen(MessagePosted)]
        assert seqs == list(range(1, len(seqs) + 1)), f"cycle {cycles}"
        cycles += 1
    await posting
    assert cycles >= 3
