"""The client core's parts on their own: no server, no sockets."""

from __future__ import annotations

import asyncio
import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from shared import frames as wire
from tchat_client.core.cache import Cache
from tchat_client.core.connection import Backoff
from tchat_client.core.errors import NotLoggedIn
from tchat_client.core.events import ChangeEvent, MessageStateChanged, TypingChanged
from tchat_client.core.models import Message, Room
from tchat_client.core.outbox import Outbox
from tchat_client.core.profile import ProfileStore, normalize_url
from tchat_client.core.state import State
from tchat_client.core.targets import Target, parse_target, resolve_target
from tests.client.conftest import REPO

ROOMS = [
    Room(1, "general", "channel"),
    Room(2, "ops", "group"),
    Room(3, "bob", "dm", dm_user="Bob"),
]


class _Highest(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_is_exponential_with_full_jitter() -> None:
    highest = Backoff(base=0.5, cap=30.0, rng=_Highest())
    assert [highest.next() for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    highest.reset()
    assert highest.next() == 0.5
    jittered = Backoff(rng=random.Random(7))
    ceilings = [min(30.0, 0.5 * 2**n) for n in range(12)]
    delays = [jittered.next() for _ in ceilings]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)  # spread, not a fixed schedule


def test_targets() -> None:
    assert parse_target("#general") == Target("channel", "general")
    assert parse_target("@bob") == Target("dm", "bob")
    assert parse_target("ops") == Target("name", "ops")
    with pytest.raises(ValueError):
        parse_target("#")
    assert resolve_target(parse_target("GENERAL"), ROOMS) == ROOMS[0]
    assert resolve_target(parse_target("#ops"), ROOMS) == ROOMS[1]  # # finds groups too
    assert resolve_target(parse_target("@bob"), ROOMS) == ROOMS[2]
    assert resolve_target(parse_target("bob"), ROOMS) is None  # bare names are not DMs
    assert [room.label for room in ROOMS] == ["#general", "ops", "@Bob"]


def test_outbox_keeps_order_and_is_durable(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    box = Outbox(path)
    first = box.add("#general", "one", room_id=1, epoch="e1")
    second = box.add("@bob", "two")
    again = box.add("#general", "changed", client_msg_id=first.client_msg_id)
    assert again == first  # an id already queued keeps its first text
    box.mark_sent(first.client_msg_id)
    box.close()

    reopened = Outbox(path)  # as after a crash: what was added is there
    entries = reopened.pending()
    assert [e.body for e in entries] == ["one", "two"]
    assert entries[0].state == "sent" and entries[0].may_be_stored
    assert not entries[1].may_be_stored
    assert entries[0].lane("e1") == "room:1" and entries[0].lane("e2") == "target:#general"
    reopened.mark_failed(second.client_msg_id, "user_not_found", "no user named 'bob'")
    assert [e.body for e in reopened.pending()] == ["one"]
    assert reopened.retry_failed() == 1
    assert reopened.remove(first.client_msg_id) and reopened.pending_count() == 1
    reopened.close()


def test_profiles_under_tchat_home(tmp_path: Path) -> None:
    store = ProfileStore.from_env({"TCHAT_HOME": str(tmp_path)})
    assert store.config_root == store.data_root == tmp_path
    with pytest.raises(NotLoggedIn):
        store.get()
    alice = store.save("ws://chat:8765", "alice")
    bob = store.save("ws://chat:8765", "bob")
    assert alice.name == "alice@chat:8765" and store.get().name == bob.name  # newest is default
    store.set_default(alice.name)
    assert store.get().user == "alice" and store.get(bob.name).user == "bob"
    alice.save_token("secret")
    assert alice.token() == "secret"
    assert stat.S_IMODE(os.stat(alice.token_path).st_mode) == 0o600
    assert alice.data_dir != bob.data_dir
    assert normalize_url("localhost:8765") == "ws://localhost:8765"
    assert normalize_url("https://chat.example.org") == "wss://chat.example.org"
    with pytest.raises(ValueError):
        normalize_url("ftp://x")


def test_cache_resume_point_never_skips_a_gap(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache.sqlite3")
    cache.replace_rooms([Room(1, "general", "channel", latest_seq=2)])
    assert cache.synced() == {1: 2}

    def msg(seq: int) -> Message:
        return Message(room=1, seq=seq, author="bob", body=str(seq), ts=0.0)

    cache.add_messages([msg(3), msg(5)])
    assert cache.synced_seq(1) == 3  # 4 is missing: the resume point waits for it
    cache.add_messages([msg(4)])
    assert cache.synced_seq(1) == 5
    cache.trim(keep=2)
    assert [m.seq for m in cache.recent(1)] == [4, 5]
    cache.set_identity("epoch", "alice")
    cache.wipe()
    assert cache.epoch is None and cache.rooms() == [] and cache.recent(1) == []
    cache.close()


def _welcome(rooms: list[wire.RoomInfo]) -> wire.Welcome:
    limits = wire.Limits(
        max_body=4000,
        max_frame=65536,
        history_page=200,
        resume_cap=1000,
        typing_interval=3.0,
        typing_expiry=6.0,
    )
    return wire.Welcome(
        protocol=1,
        server="test",
        epoch="e1",
        user=wire.UserInfo(name="alice"),
        rooms=rooms,
        presence=[],
        limits=limits,
    )


def _posted(
    seq: int, author: str, body: str, room: int = 2, cid: str | None = None
) -> wire.MessagePosted:
    info = wire.MessageInfo(
        room=room, seq=seq, id=seq, author=author, body=body, ts=0.0, client_msg_id=cid
    )
    return wire.MessagePosted(message=info)


async def test_state_counts_receipts_and_typing() -> None:
    state = State()
    events: list[ChangeEvent] = []
    state.subscribe(events.append)
    state.apply_welcome(
        _welcome([wire.RoomInfo(2, "team", "group", latest_seq=1, last_read_seq=1)])
    )
    state.add_message(_posted(2, "bob", "hi @alice").message)
    state.add_message(_posted(3, "bob", "anyone?").message)
    assert (state.rooms[2].unread, state.rooms[2].mentions) == (2, 1)
    state.add_message(_posted(2, "bob", "hi @alice").message)  # a replayed duplicate
    assert state.rooms[2].unread == 2 and len(state.messages(2)) == 2

    state.outgoing_added(
        Message(2, None, "alice", "mine", 0.0, "c1", state="queued", target="team")
    )
    state.add_message(_posted(4, "alice", "mine", cid="c1").message)
    assert (state.rooms[2].unread, state.rooms[2].last_read_seq) == (0, 4)
    assert state.outgoing == {} and state.messages(2)[-1].state == "delivered"

    state.apply(wire.ReadMarkerMoved(room=2, user="bob", seq=4))
    assert state.messages(2)[-1].state == "read"
    assert MessageStateChanged("c1", 2, "read", 4) in events

    state.apply(wire.UserTyping(room=2, user="bob", expires_in=0.05))
    assert state.typing(2) == ("bob",)
    stream = state.stream()
    async with asyncio.timeout(5):
        async for event in stream:
            if isinstance(event, TypingChanged) and event.users == ():
                break
    stream.close()


def test_cli_and_core_do_not_import_textual() -> None:
    code = (
        "import sys, tchat_client.cli, tchat_client.commands, tchat_client.core;"
        "import tchat_client.core.client, tchat_client.output;"
        "tchat_client.cli.build_parser();"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
