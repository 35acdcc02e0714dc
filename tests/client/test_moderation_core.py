"""``client.moderation`` and the moderation commands against a real server: the
owner of a channel mutes, promotes, slows, locks, kicks and bans; the member's
client follows (its room, ``ModerationNotice``, ``RoomRemoved``), a member's
attempts are refused with ``forbidden`` and change nothing."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.errors import ErrorCode
from tchat_client.cli_chat import duration, seconds_or_off
from tchat_client.commands.reading import moderation_line
from tchat_client.core import Client
from tchat_client.core.errors import RequestFailed, SendFailed
from tchat_client.core.events import (
    ChangeEvent,
    MessageStateChanged,
    ModerationNotice,
    RoomRemoved,
)
from tests.client.conftest import Cli, settles, signed_in
from tests.conftest import Running


def _notices(events: list[ChangeEvent]) -> list[tuple[str, str | None]]:
    return [(e.action, e.user) for e in events if isinstance(e, ModerationNotice)]


async def test_an_owner_moderates_and_the_member_client_follows(
    srv: Running, tmp_path: Path
) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice_profile = await signed_in(tmp_path, srv.url, "alice")
    bob_profile = await signed_in(tmp_path, srv.url, "bob")
    async with Client(alice_profile) as alice, Client(bob_profile) as bob:
        ops = await alice.create_room("ops", "channel")
        assert alice.state.rooms[ops.id].role == "owner" and ops.can_moderate
        await bob.join("ops")
        assert bob.state.rooms[ops.id].role == "member"
        bob_events: list[ChangeEvent] = []
        bob.subscribe(bob_events.append)

        # A member may not moderate: refused, and nothing changed.
        with pytest.raises(RequestFailed) as refused:
            await bob.moderation.kick(ops.id, "alice")
        assert refused.value.code == ErrorCode.FORBIDDEN
        with pytest.raises(RequestFailed) as refused:
            await bob.moderation.lock(ops.id)
        assert refused.value.code == ErrorCode.FORBIDDEN
        assert not alice.state.rooms[ops.id].locked
        assert ops.id in alice.state.rooms and ops.id in bob.state.rooms

        # Muted: bob's room says so, and his message is refused for good.
        await alice.moderation.mute(ops.id, "bob", 600, reason="cool off")
        await settles(bob, lambda: bob.state.rooms[ops.id].muted_until is not None)
        with pytest.raises(SendFailed) as muted:
            await bob.wait_delivered(bob.send(ops.id, "let me speak"))
        assert muted.value.code == ErrorCode.MUTED
        assert await srv.services.message_store.count(ops.id) == 0
        await alice.moderation.unmute(ops.id, "bob")
        await settles(bob, lambda: bob.state.rooms[ops.id].muted_until is None)

        # Roles, slow mode and the lock reach bob's view of the room.
        await alice.moderation.set_role(ops.id, "bob", "moderator")
        await settles(bob, lambda: bob.state.rooms[ops.id].role == "moderator")
        assert bob.state.rooms[ops.id].can_moderate
        await alice.moderation.set_role(ops.id, "bob", "member")
        await alice.moderation.slow_mode(ops.id, 30)
        await alice.moderation.lock(ops.id)
        await settles(
            bob,
            lambda: bob.state.rooms[ops.id].locked and bob.state.rooms[ops.id].slow_mode == 30,
        )
        assert bob.state.rooms[ops.id].role == "member"
        with pytest.raises(SendFailed) as locked:
            await bob.wait_delivered(bob.send(ops.id, "hello?"))
        assert locked.value.code == ErrorCode.ROOM_LOCKED
        await alice.moderation.lock(ops.id, False)
        await alice.moderation.slow_mode(ops.id, 0)
        await settles(
            bob,
            lambda: not bob.state.rooms[ops.id].locked and bob.state.rooms[ops.id].slow_mode == 0,
        )

        # Slow mode: a message sent too soon waits its turn in the outbox.
        await alice.moderation.slow_mode(ops.id, 2)
        await settles(bob, lambda: bob.state.rooms[ops.id].slow_mode == 2)
        first = await bob.wait_delivered(bob.send(ops.id, "one"))
        cid = bob.send(ops.id, "two")
        second = await bob.wait_delivered(cid)
        assert second.seq == first.seq + 1
        waited = [
            e.error
            for e in bob_events
            if isinstance(e, MessageStateChanged) and e.client_msg_id == cid and e.error
        ]
        assert waited and "slow mode" in waited[0]
        await alice.moderation.slow_mode(ops.id, 0)

        # Kicked: bob's client drops the room; he may join again.
        await alice.moderation.kick(ops.id, "bob", reason="spam")
        await settles(bob, lambda: ops.id not in bob.state.rooms)
        assert RoomRemoved(ops.id) in bob_events
        await bob.join("ops")

        # Banned for a while: out, and kept out until unbanned.
        await alice.moderation.ban(ops.id, "bob", duration=3600, reason="again")
        await settles(bob, lambda: ops.id not in bob.state.rooms)
        with pytest.raises(RequestFailed) as banned:
            await bob.join("ops")
        assert banned.value.code == ErrorCode.BANNED
        assert ops.id not in bob.state.rooms
        await alice.moderation.unban(ops.id, "bob")
        await bob.join("ops")
        assert ops.id in bob.state.rooms

    notices = _notices(bob_events)
    for expected in [
        ("mute", "bob"),
        ("unmute", "bob"),
        ("role", "bob"),
        ("slow_mode", None),
        ("lock", None),
        ("unlock", None),
        ("kick", "bob"),
        ("ban", "bob"),
    ]:
        assert expected in notices, (expected, notices)
    mute = next(e for e in bob_events if isinstance(e, ModerationNotice) and e.action == "mute")
    assert (mute.by, mute.reason) == ("alice", "cool off") and mute.until is not None


async def test_moderation_from_the_command_line(srv: Running, cli: Callable[[str], Cli]) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice, bob = cli("alice"), cli("bob")
    await alice.login(srv.url, "alice")
    await bob.login(srv.url, "bob")
    profile = alice.profiles.get()
    async with Client(profile, prefetch=False) as client:
        ops = await client.create_room("ops", "channel")
    await bob.ok("join", "ops")

    refused = await bob.run("lock", "#ops")
    assert refused.code == 1 and refused.err.startswith("tchat: ") and refused.out == ""
    assert (await bob.run("kick", "#ops", "alice")).code == 1
    await bob.ok("send", "#ops", "still open")  # nothing changed

    slow = await alice.ok("slow", "#ops", "30s")
    assert "30 s" in slow.err
    await alice.ok("slow", "#ops", "off")
    await alice.ok("lock", "#ops")
    locked = await bob.run("send", "#ops", "hello?")
    assert locked.code == 1
    await alice.ok("unlock", "#ops")
    await alice.ok("role", "#ops", "bob", "moderator")
    await alice.ok("role", "#ops", "bob", "member")
    await alice.ok("mute", "#ops", "bob", "--for", "10m", "--reason", "calm down")
    await alice.ok("unmute", "#ops", "bob")

    banned = await alice.ok("ban", "#ops", "bob", "--for", "1d", "--reason", "enough")
    assert "for 1d" in banned.err
    rejoin = await bob.run("join", "ops")
    assert rejoin.code == 1 and "ban" in rejoin.err.lower()
    await alice.ok("unban", "#ops", "bob")
    await bob.ok("join", "ops")
    await alice.ok("kick", "#ops", "bob", "--reason", "bye")
    gone = await bob.run("history", "#ops")
    assert gone.code == 3

    bad = await alice.run("ban", "#ops", "bob", "--for", "soon")
    assert bad.code == 1 and "not a duration" in bad.err
    assert "bob" not in await srv.services.room_store.member_names(ops.id)


def test_durations_and_slow_mode_arguments() -> None:
    assert [duration(t) for t in ("30s", "10m", "2h", "1d", "45", "1.5h")] == [
        30,
        600,
        7200,
        86400,
        45,
        5400,
    ]
    for bad in ("soon", "10x", "-5m", "0s", "367d", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            duration(bad)
    assert [seconds_or_off(t) for t in ("off", "0", "30", "30s", "6h")] == [0, 0, 30, 30, 21600]
    for bad in ("7h", "1.5s"):
        with pytest.raises(argparse.ArgumentTypeError):
            seconds_or_off(bad)


def test_tail_shows_moderation_as_a_safe_line() -> None:
    kick = ModerationNotice(7, "kick", "alice", "bob", reason="spam\x1b[2J")
    assert moderation_line(kick) == "alice kicked bob (spam␛[2J)"
    slow = ModerationNotice(7, "slow_mode", "alice", seconds=30)
    assert moderation_line(slow) == "alice set slow mode to 30 s"
    assert moderation_line(ModerationNotice(7, "slow_mode", "alice", seconds=0)).endswith(
        "ended slow mode"
    )
    role = ModerationNotice(7, "role", "alice", "bob", role="moderator")
    assert moderation_line(role) == "alice made bob moderator"
