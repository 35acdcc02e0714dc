"""Replies, edits, deletes and reactions through the client core against a real
server: another client's state follows live (``MessageChanged``) and after it was
away (the resume replays changes past its cursor, and its cache keeps them); a
reply waits in the durable outbox across a restart; refusals are
``RequestFailed`` codes and change nothing; and the CLI round trips."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from shared.errors import ErrorCode
from tchat_client.core import Client
from tchat_client.core.cache import Cache
from tchat_client.core.errors import RequestFailed, SendFailed
from tchat_client.core.events import ChangeEvent, MessageChanged
from tchat_client.core.models import Message, ReactionCount, ReplyPreview
from tchat_client.core.outbox import Outbox
from tests.client.conftest import Cli, read_line, settles, signed_in
from tests.client.proxy import Proxy
from tests.conftest import Running

Start = Callable[..., Awaitable[Running]]

GENERAL = 1


def _held(client: Client, seq: int) -> Message:
    message = client.state.message(GENERAL, seq)
    assert message is not None
    return message


async def test_reply_edit_react_delete_reach_another_client_live(
    srv: Running, tmp_path: Path
) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice_profile = await signed_in(tmp_path, srv.url, "alice")
    bob_profile = await signed_in(tmp_path, srv.url, "bob")
    async with Client(alice_profile) as alice, Client(bob_profile) as bob:
        seen: list[ChangeEvent] = []
        bob.subscribe(seen.append)
        ack = await alice.wait_delivered(alice.send(GENERAL, "first take\nline two"))
        await settles(bob, lambda: bob.state.message(GENERAL, ack.seq) is not None)

        # A reply shows its quote while it is still in the outbox.
        cid = bob.send(GENERAL, "a reply", reply_to=ack.seq)
        assert bob.state.outgoing[cid].reply == ReplyPreview(
            ack.seq, "alice", "first take line two"
        )
        reply = await bob.wait_delivered(cid)
        await settles(alice, lambda: _held(alice, ack.seq).reply_count == 1)

        await alice.edit(GENERAL, ack.seq, "second take")
        await alice.react(GENERAL, ack.seq, "👍")
        await bob.react(GENERAL, ack.seq, ":thumbsup:")
        await bob.react(GENERAL, ack.seq, "🎉")

        def settled() -> bool:
            message = _held(bob, ack.seq)
            return message.body == "second take" and len(message.reactions) == 2

        await settles(bob, settled)
        parent = _held(bob, ack.seq)
        assert parent.edited is not None and parent.reply_count == 1
        assert parent.reactions == (
            ReactionCount("👍", ("alice", "bob")),
            ReactionCount("🎉", ("bob",)),
        )
        # bob's reply quotes the parent as it now is.
        assert _held(bob, reply.seq).reply == ReplyPreview(ack.seq, "alice", "second take")
        changed = [e.message for e in seen if isinstance(e, MessageChanged)]
        assert [m.body for m in changed if m.seq == ack.seq][-1] == "second take"
        assert parent.change == max(m.change for m in changed)

        # The thread: the parent and its reply.
        top, replies = await bob.thread(GENERAL, reply.seq)
        assert top.seq == ack.seq and [(m.seq, m.body) for m in replies] == [(reply.seq, "a reply")]

        # Refusals change nothing.
        with pytest.raises(RequestFailed) as forbidden:
            await bob.edit(GENERAL, ack.seq, "bob was here")
        assert forbidden.value.code == ErrorCode.FORBIDDEN
        with pytest.raises(RequestFailed) as bad_emoji:
            await bob.react(GENERAL, ack.seq, "not an emoji")
        assert bad_emoji.value.code == ErrorCode.EMOJI_INVALID
        with pytest.raises(RequestFailed) as missing:
            await alice.edit(GENERAL, 999, "nothing there")
        assert missing.value.code == ErrorCode.MESSAGE_NOT_FOUND
        with pytest.raises(RequestFailed) as no_thread:
            await bob.thread(GENERAL, 999)
        assert no_thread.value.code == ErrorCode.MESSAGE_NOT_FOUND
        stored = await srv.services.message_store.get(GENERAL, ack.seq)
        assert stored.body == "second take" and stored.author == "alice"
        assert stored.reactions == (("👍", ("alice", "bob")), ("🎉", ("bob",)))

        # Deleting leaves a tombstone, in the other client and in its cache.
        await alice.delete(GENERAL, ack.seq)
        await settles(bob, lambda: _held(bob, ack.seq).deleted)
        tomb = _held(bob, ack.seq)
        assert tomb.body == "" and tomb.reactions == () and tomb.file is None
        assert _held(bob, reply.seq).reply == ReplyPreview(ack.seq, "alice", "", True)
        with pytest.raises(RequestFailed) as gone:
            await bob.react(GENERAL, ack.seq, "👍")
        assert gone.value.code == ErrorCode.MESSAGE_NOT_FOUND
        cached = {m.seq: m for m in bob.cache.recent(GENERAL)}
        assert cached[ack.seq].deleted and cached[ack.seq].body == ""
        assert cached[reply.seq].reply_to == ack.seq


async def test_changes_made_while_away_arrive_on_resume_and_stay_cached(
    srv: Running, tmp_path: Path
) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice_profile = await signed_in(tmp_path, srv.url, "alice")
    bob_profile = await signed_in(tmp_path, srv.url, "bob")
    async with Client(alice_profile) as alice:
        first = await alice.wait_delivered(alice.send(GENERAL, "typo hre"))
        second = await alice.wait_delivered(alice.send(GENERAL, "untouched"))
        async with Client(bob_profile) as bob:
            await settles(bob, lambda: bob.state.message(GENERAL, second.seq) is not None)
            cursor_before = bob.cache.synced_changes()[GENERAL]
        # bob is away: alice edits, reacts, and someone replies.
        await alice.edit(GENERAL, first.seq, "typo here")
        await alice.react(GENERAL, first.seq, "👀")
        await alice.wait_delivered(alice.send(GENERAL, "see above", reply_to=first.seq))

    # bob comes back from his cache alone: the resume replays what changed.
    bob = Client(bob_profile)
    bob.load()
    assert _held(bob, first.seq).body == "typo hre"  # what the cache had
    seen: list[ChangeEvent] = []
    bob.subscribe(seen.append)
    try:
        await bob.start()
        await settles(bob, lambda: _held(bob, first.seq).reply_count == 1)
        message = _held(bob, first.seq)
        assert message.body == "typo here" and message.edited is not None
        assert message.reactions == (ReactionCount("👀", ("alice",)),)
        assert _held(bob, second.seq).body == "untouched"
        assert any(isinstance(e, MessageChanged) and e.message.seq == first.seq for e in seen)
        room = bob.state.rooms[GENERAL]
        assert bob.cache.synced_changes()[GENERAL] == room.latest_change > cursor_before
    finally:
        await bob.close()

    reopened = Client(bob_profile)
    try:
        cached = {m.seq: m for m in reopened.cache.recent(GENERAL)}
        assert cached[first.seq].body == "typo here" and cached[first.seq].edited is not None
        assert cached[first.seq].reactions == (ReactionCount("👀", ("alice",)),)
        assert cached[first.seq].reply_count == 1
        [reply] = [m for m in cached.values() if m.body == "see above"]
        assert reply.reply == ReplyPreview(first.seq, "alice", "typo here")
    finally:
        await reopened.close()


async def test_a_reply_queued_while_the_server_is_down_survives_a_restart(
    start_server: Start, proxy_to: Callable[[Running], Awaitable[Proxy]], tmp_path: Path
) -> None:
    first = await start_server()
    await first.user("alice")
    proxy = await proxy_to(first)
    profile = await signed_in(tmp_path, proxy.url, "alice")
    async with Client(profile) as client:
        parent = await client.wait_delivered(client.send(GENERAL, "question?"))
    await first.stop()

    # The server is down: the reply goes to the outbox, and the client stops.
    client = Client(profile)
    client.load()
    cid = client.send_to("#general", "answer!", reply_to=parent.seq)
    assert client.state.outgoing[cid].reply == ReplyPreview(parent.seq, "alice", "question?")
    await client.close()
    box = Outbox(profile.outbox_path)
    [entry] = box.entries()
    box.close()
    assert (entry.client_msg_id, entry.reply_to) == (cid, parent.seq)

    second = await start_server()
    proxy.retarget(second.server.port)
    async with Client(profile) as client:
        ack = await client.wait_delivered(cid)
        assert client.outbox.entries() == []
    stored = await second.services.message_store.get(GENERAL, ack.seq)
    assert stored.body == "answer!" and stored.reply_to == parent.seq
    parent_row = await second.services.message_store.get(GENERAL, parent.seq)
    assert parent_row.reply_count == 1


def test_an_old_outbox_and_cache_open_and_gain_the_new_columns(tmp_path: Path) -> None:
    outbox_path, cache_path = tmp_path / "outbox.db", tmp_path / "cache.db"
    old = sqlite3.connect(outbox_path)
    old.executescript(
        "CREATE TABLE outbox (position INTEGER PRIMARY KEY AUTOINCREMENT, "
        "client_msg_id TEXT NOT NULL UNIQUE, target TEXT NOT NULL, room_id INTEGER, "
        "epoch TEXT, body TEXT NOT NULL, created_at REAL NOT NULL, state TEXT NOT NULL "
        "DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0, error_code TEXT, error TEXT);"
        "INSERT INTO outbox(client_msg_id, target, body, created_at) "
        "VALUES ('old1', '#general', 'from before', 1.0);"
    )
    old.close()
    old = sqlite3.connect(cache_path)
    old.executescript(
        "CREATE TABLE rooms (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, "
        "topic TEXT NOT NULL DEFAULT '', member_count INTEGER NOT NULL DEFAULT 0, "
        "latest_seq INTEGER NOT NULL DEFAULT 0, last_read_seq INTEGER NOT NULL DEFAULT 0, "
        "unread INTEGER NOT NULL DEFAULT 0, mentions INTEGER NOT NULL DEFAULT 0, dm_user TEXT, "
        "others_read_seq INTEGER NOT NULL DEFAULT 0, synced_seq INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE messages (room INTEGER NOT NULL, seq INTEGER NOT NULL, id INTEGER, "
        "author TEXT NOT NULL, body TEXT NOT NULL, ts REAL NOT NULL, client_msg_id TEXT, "
        "PRIMARY KEY (room, seq)) WITHOUT ROWID;"
        "INSERT INTO rooms(id, name, kind, latest_seq, synced_seq) "
        "VALUES (1, 'general', 'channel', 1, 1);"
        "INSERT INTO messages VALUES (1, 1, 7, 'bob', 'cached', 2.0, NULL);"
    )
    old.close()

    box = Outbox(outbox_path)
    [entry] = box.entries()
    assert (entry.body, entry.reply_to, entry.file_id) == ("from before", None, None)
    added = box.add("#general", "a reply", reply_to=1, file_id=5)
    box.close()
    box = Outbox(outbox_path)
    again = box.get(added.client_msg_id)
    assert again is not None and (again.reply_to, again.file_id) == (1, 5)
    box.close()

    cache = Cache(cache_path)
    [message] = cache.recent(1)
    assert (message.body, message.change, message.reactions) == ("cached", 0, ())
    assert cache.synced_changes() == {1: 0}
    changed = Message(
        room=1,
        seq=1,
        author="bob",
        body="edited",
        ts=2.0,
        id=7,
        edited=3.0,
        change=4,
        reactions=(ReactionCount("👍", ("alice",)),),
    )
    assert cache.update_message(changed)
    assert not cache.update_message(changed)  # not newer: left alone
    cache.set_synced_change(1, 4)
    cache.close()
    cache = Cache(cache_path)
    assert cache.recent(1) == [changed]
    assert cache.synced_changes() == {1: 4}
    cache.close()


async def test_cli_reply_edit_react_thread_delete_and_a_refusal(
    srv: Running, cli: Callable[[str], Cli]
) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice, bob = cli("alice"), cli("bob")
    await alice.login(srv.url, "alice")
    await bob.login(srv.url, "bob")

    sent = json.loads((await alice.ok("send", "#general", "ship it?", "--json")).out)
    seq = sent["seq"]
    reply = json.loads(
        (await bob.ok("send", "general", "yes", "--reply-to", str(seq), "--json")).out
    )
    await alice.ok("edit", "#general", str(seq), "ship it today?")
    await bob.ok("react", "#general", str(seq), "👍")
    await alice.ok("react", "#general", str(seq), ":tada:")

    shown = await bob.ok("history", "#general")
    text = shown.out
    assert f"#{seq} <alice> ship it today? (edited)" in text
    assert "👍 1  🎉 1" in text and "💬 1 reply" in text
    assert f"#{reply['seq']} <bob> yes" in text
    assert f"↳ re #{seq} alice: ship it today?" in text

    lines = [json.loads(line) for line in (await bob.ok("history", "general", "--json")).lines]
    parent = next(m for m in lines if m["seq"] == seq)
    assert parent["edited"] is not None and parent["reply_count"] == 1
    assert parent["reactions"] == [
        {"emoji": "👍", "count": 1, "users": ["bob"]},
        {"emoji": "🎉", "count": 1, "users": ["alice"]},
    ]
    child = next(m for m in lines if m["seq"] == reply["seq"])
    assert child["reply_to"] == seq and child["reply"]["author"] == "alice"

    thread = [
        json.loads(line) for line in (await alice.ok("thread", "general", str(seq), "--json")).lines
    ]
    assert [(m["seq"], m["body"]) for m in thread] == [
        (seq, "ship it today?"),
        (reply["seq"], "yes"),
    ]

    shown_thread = await alice.ok("thread", "general", str(seq))
    assert shown_thread.lines[0].endswith(f"#{seq} <alice> ship it today? (edited)")
    assert shown_thread.lines[-1].startswith("  ")
    assert shown_thread.lines[-1].endswith(f"#{reply['seq']} <bob> yes")
    assert "↳ re" not in shown_thread.out  # replies under their parent need no quote

    refused = await bob.run("edit", "#general", str(seq), "mine now")
    assert refused.code == 1 and refused.err.count("\n") == 1 and refused.out == ""
    assert (await srv.services.message_store.get(GENERAL, seq)).body == "ship it today?"
    removed = await bob.run("react", "#general", str(seq), "👍", "--remove")
    assert removed.code == 0

    await alice.ok("delete", "#general", str(seq))
    after = await bob.ok("history", "#general")
    assert f"#{seq} <alice> [deleted]" in after.out and "ship it today?" not in after.out
    assert "👍" not in after.out
    unknown = await bob.run("delete", "#nowhere", "1")
    assert unknown.code == 3


async def test_tail_follow_prints_a_message_again_when_it_changes(
    srv: Running, cli: Callable[[str], Cli]
) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice, bob = cli("alice"), cli("bob")
    await alice.login(srv.url, "alice")
    await bob.login(srv.url, "bob")
    first = json.loads((await alice.ok("send", "#general", "draft", "--json")).out)

    follow = await bob.spawn("tail", "general", "-f", "--json")
    try:
        shown = json.loads(await read_line(follow))
        assert (shown["seq"], shown["body"], shown["edited"]) == (first["seq"], "draft", None)
        await alice.ok("edit", "#general", str(first["seq"]), "final")
        edited = json.loads(await read_line(follow))
        assert (edited["seq"], edited["body"]) == (first["seq"], "final")
        assert edited["edited"] is not None and edited["change"] > shown["change"]
        await alice.ok("react", "#general", str(first["seq"]), "👍")
        reacted = json.loads(await read_line(follow))
        assert reacted["reactions"] == [{"emoji": "👍", "count": 1, "users": ["alice"]}]
        await alice.ok("delete", "#general", str(first["seq"]))
        deleted = json.loads(await read_line(follow))
        assert deleted["deleted"] is True and deleted["body"] == "" and deleted["reactions"] == []
    finally:
        follow.terminate()
        assert await follow.wait() == 0


async def test_a_reply_to_a_message_not_held_gets_its_quote_once_stored(
    srv: Running, tmp_path: Path
) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice_profile = await signed_in(tmp_path, srv.url, "alice")
    async with Client(alice_profile) as alice:
        parent = await alice.wait_delivered(alice.send(GENERAL, "an old question"))
    # bob signs in after it: his client follows the room from its latest seq.
    bob_profile = await signed_in(tmp_path, srv.url, "bob")
    async with Client(bob_profile, prefetch=False) as bob:
        assert bob.state.message(GENERAL, parent.seq) is None
        cid = bob.send(GENERAL, "an answer", reply_to=parent.seq)
        assert bob.state.outgoing[cid].reply is None  # nothing to quote from yet
        ack = await bob.wait_delivered(cid)
        quote = ReplyPreview(parent.seq, "alice", "an old question")
        await settles(bob, lambda: _held(bob, ack.seq).reply == quote)
        assert _held(bob, ack.seq).state in {"delivered", "read"}
        # A reply to a message that does not exist is refused for good.
        with pytest.raises(SendFailed) as missing:
            await bob.wait_delivered(bob.send(GENERAL, "to nothing", reply_to=999))
        assert missing.value.code == ErrorCode.MESSAGE_NOT_FOUND
    assert await srv.services.message_store.count(GENERAL) == 2
