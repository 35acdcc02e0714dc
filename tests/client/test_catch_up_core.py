"""Catching up: notification levels and mute, mark unread, the "since you were
away" summary, who a message mentions and whether it alerts, and a resume where
more changed than the server replays (the held messages are fetched again)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from shared.errors import ErrorCode
from shared.frames import MessageInfo, MessageUpdated, Reaction, Resumed, RoomInfo, RoomJoined
from tchat_client.core import Client
from tchat_client.core.errors import RequestFailed
from tchat_client.core.events import ChangeEvent, MessageChanged, RoomChanged
from tchat_client.core.mentions import mentions_me, should_alert
from tchat_client.core.models import Message, Room
from tchat_client.core.state import State
from tests.client.conftest import DEADLINE, Cli, settles, signed_in
from tests.conftest import Running

Start = Callable[..., Awaitable[Running]]

GENERAL = 1


def _message(body: str, author: str = "bob", deleted: bool = False) -> Message:
    return Message(room=1, seq=1, author=author, body=body, ts=0.0, deleted=deleted)


def test_mentions_me_by_name_broadcast_and_here() -> None:
    assert mentions_me(_message("hey @Alice, look"), "alice")
    assert mentions_me(_message("@alice."), "alice")
    assert not mentions_me(_message("hey @alicia"), "alice")  # a word boundary
    assert not mentions_me(_message("mail alice@example.com"), "alice")
    assert not mentions_me(_message("no one"), "alice")
    for everyone in ("@room", "@channel", "@everyone", "@Here"):
        assert mentions_me(_message(f"{everyone} standup"), "alice")
    assert not mentions_me(_message("@here standup"), "alice", online_when_sent=False)
    assert mentions_me(_message("@room standup"), "alice", online_when_sent=False)
    assert not mentions_me(_message("@alice notes to self", author="alice"), "alice")
    assert not mentions_me(_message("", deleted=True), "alice")


def test_should_alert_follows_level_and_mute() -> None:
    channel = Room(id=1, name="general", kind="channel")
    dm = Room(id=2, name="bob", kind="dm", dm_user="bob")
    plain, named = _message("lunch?"), _message("@alice lunch?")
    assert should_alert(channel, plain, "alice")
    assert not should_alert(channel, _message("mine", author="alice"), "alice")
    mentions = Room(id=1, name="general", kind="channel", notify="mentions")
    assert not should_alert(mentions, plain, "alice") and should_alert(mentions, named, "alice")
    assert should_alert(Room(id=2, name="bob", kind="dm", notify="mentions"), plain, "alice")
    assert should_alert(dm, plain, "alice")
    none = Room(id=1, name="general", kind="channel", notify="none")
    assert not should_alert(none, named, "alice")
    muted = Room(id=1, name="general", kind="channel", muted=True)
    assert not should_alert(muted, named, "alice")


def test_a_change_never_goes_back_and_the_summary_puts_mentions_first() -> None:
    state = State()
    state.load("alice", "e", [], [])
    rooms = [
        RoomInfo(id=1, name="general", kind="channel", latest_seq=1, unread=5),
        RoomInfo(id=2, name="ops", kind="channel", unread=1, mentions=1),
        RoomInfo(id=3, name="noise", kind="channel", unread=50, muted=True),
        RoomInfo(id=4, name="pager", kind="channel", unread=2, mentions=2, muted=True),
        RoomInfo(id=5, name="quiet", kind="channel"),
    ]
    for info in rooms:
        state.apply(RoomJoined(room=info))
    summary = [(room.name, unread, mentions) for room, unread, mentions in state.away_summary()]
    assert summary == [("pager", 2, 2), ("ops", 1, 1), ("general", 5, 0)]

    events: list[ChangeEvent] = []
    state.subscribe(events.append)
    base = MessageInfo(room=1, seq=1, id=1, author="bob", body="v1", ts=1.0)
    state.add_history(1, [base], more=False)
    newer = MessageInfo(
        room=1,
        seq=1,
        id=1,
        author="bob",
        body="v3",
        ts=1.0,
        edited=3.0,
        change=3,
        reactions=[Reaction(emoji="👍", users=["alice"])],
    )
    older = MessageInfo(room=1, seq=1, id=1, author="bob", body="v2", ts=1.0, change=2)
    state.apply(MessageUpdated(message=newer))
    state.apply(MessageUpdated(message=older))  # late: ignored
    state.add_history(1, [base], more=False)  # a page fetched before the edit: ignored
    held = state.message(1, 1)
    assert held is not None and (held.body, held.change) == ("v3", 3)
    assert [e.message.body for e in events if isinstance(e, MessageChanged)] == ["v3"]
    assert state.rooms[1].latest_change == 3


async def test_levels_mark_unread_and_the_away_summary(srv: Running, tmp_path: Path) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice_profile = await signed_in(tmp_path, srv.url, "alice")
    bob_profile = await signed_in(tmp_path, srv.url, "bob")
    async with Client(alice_profile) as alice, Client(bob_profile) as bob:
        quiet = await alice.create_room("quiet", "channel")
        await bob.join("quiet")
        for n in range(3):
            await alice.wait_delivered(alice.send(GENERAL, f"general {n}"))
        await alice.wait_delivered(alice.send(quiet.id, "quiet 0"))
        last = await alice.wait_delivered(alice.send(GENERAL, "@bob see this"))

        def counted() -> bool:
            general, room = bob.state.rooms[GENERAL], bob.state.rooms.get(quiet.id)
            return general.latest_seq == last.seq and room is not None and room.unread == 1

        await settles(bob, counted)
        general = bob.state.rooms[GENERAL]
        assert (general.unread, general.mentions) == (4, 1)
        assert general.first_unread_seq == general.last_read_seq + 1

        events: list[ChangeEvent] = []
        bob.subscribe(events.append)
        await bob.set_notify(quiet.id, muted=True)
        assert bob.state.rooms[GENERAL].notify == "mentions"  # a channel's default
        await bob.set_notify(GENERAL, level="all")
        await settles(
            bob,
            lambda: bob.state.rooms[quiet.id].muted and bob.state.rooms[GENERAL].notify == "all",
        )
        assert any(isinstance(e, RoomChanged) and e.room.muted for e in events)
        # A muted room without a mention stays out of the summary.
        summary = [
            (room.id, unread, mentions) for room, unread, mentions in bob.state.away_summary()
        ]
        assert summary == [(GENERAL, 4, 1)]
        assert bob.state.rooms[quiet.id].notify == "mentions"  # level and mute are apart

        # Read everything, then mark unread from a seq: the marker moves back.
        bob.mark_read(GENERAL, last.seq)
        await settles(bob, lambda: bob.state.rooms[GENERAL].unread == 0)
        assert bob.state.rooms[GENERAL].first_unread_seq is None
        await bob.mark_unread(GENERAL, last.seq - 1)
        await settles(bob, lambda: bob.state.rooms[GENERAL].unread == 2)
        room = bob.state.rooms[GENERAL]
        assert room.last_read_seq == last.seq - 2 and room.first_unread_seq == last.seq - 1

        # Refusals: a room bob is not in, a seq past the end; nothing moved.
        secret = await alice.create_room("secret", "group")
        with pytest.raises(RequestFailed) as outside:
            await bob.set_notify(secret.id, level="none")
        assert outside.value.code in {ErrorCode.NOT_MEMBER, ErrorCode.ROOM_NOT_FOUND}
        with pytest.raises(RequestFailed) as elsewhere:
            await bob.mark_unread(secret.id, 1)
        assert elsewhere.value.code in {ErrorCode.NOT_MEMBER, ErrorCode.ROOM_NOT_FOUND}
        with pytest.raises(RequestFailed) as zero:
            await bob.mark_unread(GENERAL, 0)  # refused before it is sent
        assert zero.value.code == ErrorCode.BAD_FRAME
        assert bob.state.rooms[GENERAL].last_read_seq == last.seq - 2
        assert secret.id not in bob.state.rooms

    # A fresh client sees the levels the server keeps.
    async with Client(bob_profile, prefetch=False) as again:
        assert again.state.rooms[GENERAL].notify == "all"
        assert again.state.rooms[quiet.id].muted
        assert again.state.rooms[GENERAL].last_read_seq == last.seq - 2


async def test_too_many_changes_while_away_refetch_what_is_held(
    start_server: Start, tmp_path: Path
) -> None:
    srv = await start_server(resume_cap=2)
    await srv.user("alice")
    await srv.user("bob")
    alice_profile = await signed_in(tmp_path, srv.url, "alice")
    bob_profile = await signed_in(tmp_path, srv.url, "bob")
    async with Client(alice_profile) as alice:
        acks = [await alice.wait_delivered(alice.send(GENERAL, f"draft {n}")) for n in range(4)]
        async with Client(bob_profile) as bob:
            await settles(bob, lambda: len(bob.state.messages(GENERAL)) == 4)
        for n, ack in enumerate(acks):
            await alice.edit(GENERAL, ack.seq, f"final {n}")

    resumed: list[Resumed] = []
    bob = Client(bob_profile)
    seen: list[ChangeEvent] = []
    bob.subscribe(seen.append)
    original = bob._sync.frame_received

    def watch(frame: object) -> None:
        if isinstance(frame, Resumed):
            resumed.append(frame)
        original(frame)  # type: ignore[arg-type]

    bob._sync.frame_received = watch  # type: ignore[method-assign]
    try:
        await bob.start()
        await settles(
            bob,
            lambda: (
                [m.body for m in bob.state.messages(GENERAL)] == [f"final {n}" for n in range(4)]
            ),
        )
        [info] = [i for i in resumed[0].rooms if i.room == GENERAL]
        assert info.changes_truncated and info.changes_replayed == 0
        assert sum(isinstance(e, MessageChanged) for e in seen) == 4

        async def cursor_moved() -> bool:
            return bob.cache.synced_changes()[GENERAL] == info.latest_change

        async with asyncio.timeout(DEADLINE):
            while not await cursor_moved():  # noqa: ASYNC110 - the refetch ends in the cache
                await asyncio.sleep(0.02)
    finally:
        await bob.close()
    reopened = Client(bob_profile)
    assert [m.body for m in reopened.cache.recent(GENERAL)] == [f"final {n}" for n in range(4)]
    await reopened.close()


async def test_cli_notify_and_mark_unread(srv: Running, cli: Callable[[str], Cli]) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice, bob = cli("alice"), cli("bob")
    await alice.login(srv.url, "alice")
    await bob.login(srv.url, "bob")
    for n in range(3):
        await alice.ok("send", "#general", f"note {n}")

    await bob.ok("notify", "general", "mentions")
    await bob.ok("notify", "#general", "mute")
    rooms = {r["label"]: r for r in json.loads((await bob.ok("rooms", "--json")).out)}
    assert rooms["#general"]["notify"] == "mentions" and rooms["#general"]["muted"] is True
    await bob.ok("notify", "#general", "unmute")
    await bob.ok("mark-unread", "#general", "2")
    rooms = {r["label"]: r for r in json.loads((await bob.ok("rooms", "--json")).out)}
    assert rooms["#general"]["muted"] is False
    assert rooms["#general"]["last_read_seq"] == 1 and rooms["#general"]["unread"] == 2

    bad = await bob.run("notify", "#general", "sometimes")
    assert bad.code == 1 and bad.out == ""
    unknown = await bob.run("mark-unread", "#nowhere", "1")
    assert unknown.code == 3
