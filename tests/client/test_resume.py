"""The client core against a real server through a proxy: a cut connection
resumes with no gap and no duplicate; a replaced server database is noticed and
everything is fetched again."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from shared.frames import Ack, CreateRoom, MessagePosted, Ok, Send
from tchat_client.core import Client
from tchat_client.core.cache import Cache
from tchat_client.core.events import ChangeEvent, MessageAdded, MessageStateChanged, StateReset
from tchat_server.storage.users import hash_secret
from tests.client.conftest import Cli, eventually, signed_in
from tests.client.proxy import Proxy
from tests.conftest import PASSWORD, Running

Start = Callable[..., Awaitable[Running]]

GENERAL = 1


def _delete_database(data_dir: Path) -> None:
    for path in data_dir.glob("tchat.db*"):
        path.unlink()


async def test_cut_mid_stream_resumes_without_gap_or_duplicate(
    start_server: Start, proxy_to: Callable[[Running], Awaitable[Proxy]], tmp_path: Path
) -> None:
    srv = await start_server(rate_per_second=1000.0, rate_burst=1000)
    await srv.user("alice")
    await srv.user("bob")
    proxy = await proxy_to(srv)
    profile = await signed_in(tmp_path, proxy.url, "alice")
    bob = await srv.connect("bob")
    events: list[ChangeEvent] = []
    client = Client(profile)
    client.subscribe(events.append)
    await client.start()
    try:
        count = 30

        def held_at_least(n: int) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                # A live link too: right after a cut the client may not have noticed
                # yet (still `connected`), and a cut then would cut nothing.
                return (
                    client.connected
                    and bool(proxy.links)
                    and len(client.state.messages(GENERAL)) >= n
                )

            return check

        for n in range(count):
            client.send(GENERAL, f"a{n}")
            await bob.send(Send(client_msg_id=f"b{n}", body=f"b{n}", room=GENERAL))
            if n in (9, 19):
                # Messages flow both ways (alice's lane has more in flight): cut.
                await eventually(held_at_least(n + 1))
                proxy.cut()

        async def settled() -> bool:
            held = client.state.messages(GENERAL)
            return len(held) == 2 * count and client.outbox.pending_count() == 0

        await eventually(settled)
        for _ in range(count):
            await bob.expect(Ack)
    finally:
        await client.close()

    assert proxy.accepted >= 4  # the login, the first connection and two reconnections
    rows, _ = await srv.services.message_store.page(GENERAL, limit=200)
    assert [row.seq for row in rows] == list(range(1, 2 * count + 1))
    assert [row.body for row in rows if row.author == "alice"] == [f"a{n}" for n in range(count)]
    assert [row.body for row in rows if row.author == "bob"] == [f"b{n}" for n in range(count)]

    held = client.state.messages(GENERAL)
    assert [(m.seq, m.body) for m in held] == [(row.seq, row.body) for row in rows]
    assert all(m.state in {"delivered", "read"} for m in held if m.author == "alice")
    added = [e.message.seq for e in events if isinstance(e, MessageAdded) and e.message.seq]
    delivered = [
        e.seq for e in events if isinstance(e, MessageStateChanged) and e.state == "delivered"
    ]
    assert sorted(added + delivered) == list(range(1, 2 * count + 1))  # each seq exactly once
    reopened = Client(profile)
    assert reopened.cache.synced()[GENERAL] == 2 * count
    assert [m.seq for m in reopened.cache.recent(GENERAL, 100)] == list(range(1, 2 * count + 1))
    await reopened.close()


async def test_new_server_epoch_is_noticed_and_refetched(
    start_server: Start,
    proxy_to: Callable[[Running], Awaitable[Proxy]],
    tmp_path: Path,
    data_dir: Path,
) -> None:
    first = await start_server()
    await first.user("alice")
    await first.user("bob")
    proxy = await proxy_to(first)
    profile = await signed_in(tmp_path, proxy.url, "alice")
    bob = await first.connect("bob")
    for n in range(3):
        await bob.send(Send(client_msg_id=f"old{n}", body=f"old {n}", dm="alice"))
        await bob.expect(Ack)

    async with Client(profile) as client:

        async def cached() -> bool:
            return len(client.state.messages(2)) == 3

        await eventually(cached)
        old_epoch = client.cache.epoch
    await first.stop()
    _delete_database(data_dir)

    # A fresh database: new epoch, and room 2 is now a group, not the DM with bob.
    second = await start_server()
    alice_row = await second.services.accounts.create_user("alice", PASSWORD)
    await second.user("bob")
    token = profile.token()
    assert token is not None
    await second.services.users.add_token(alice_row.id, hash_secret(token), "restored")
    proxy.retarget(second.server.port)
    bob = await second.connect("bob")
    await bob.send(CreateRoom(name="ops", kind="group", members=["alice"], rid="c"))
    await bob.expect(Ok)
    await bob.send(Send(client_msg_id="new0", body="new 0", dm="alice"))
    await bob.expect(Ack)

    events: list[ChangeEvent] = []
    client = Client(profile)
    client.subscribe(events.append)
    client.load()
    assert [m.body for m in client.state.messages(2)] == ["old 0", "old 1", "old 2"]
    cid = client.send_to("@bob", "queued across epochs")  # resolved to room 2 of the old epoch
    try:
        await client.start()
        ack = await client.wait_delivered(cid)

        async def refetched() -> bool:
            dm = next((r for r in client.state.rooms.values() if r.kind == "dm"), None)
            return dm is not None and len(client.state.messages(dm.id)) == 2

        await eventually(refetched)
    finally:
        await client.close()

    assert any(isinstance(e, StateReset) for e in events)
    assert client.state.epoch != old_epoch
    dm = next(r for r in client.state.rooms.values() if r.kind == "dm")
    assert dm.id == ack.room != 2
    assert [m.body for m in client.state.messages(dm.id)] == ["new 0", "queued across epochs"]
    assert client.state.messages(2) == []  # the group "ops" got nothing
    assert await second.services.message_store.count(2) == 0
    posted = [f.message.body for f in bob.seen(MessagePosted)]
    assert posted == ["new 0", "queued across epochs"]
    reopened = Client(profile)
    bodies = [m.body for room in reopened.cache.rooms() for m in reopened.cache.recent(room.id)]
    assert sorted(bodies) == ["new 0", "queued across epochs"]
    await reopened.close()


async def test_cli_after_a_database_reset_logs_in_again_and_shows_only_the_new(
    start_server: Start,
    proxy_to: Callable[[Running], Awaitable[Proxy]],
    cli: Callable[[str], Cli],
    data_dir: Path,
) -> None:
    first = await start_server()
    await first.user("alice")
    await first.user("bob")
    proxy = await proxy_to(first)
    alice = cli("alice")
    await alice.login(proxy.url, "alice")
    await alice.ok("send", "general", "old")
    old_epoch = Cache(alice.profiles.get().cache_path).epoch
    await first.stop()
    _delete_database(data_dir)

    second = await start_server()
    await second.user("alice")
    await second.user("bob")
    proxy.retarget(second.server.port)
    bob = await second.connect("bob")
    await bob.send(Send(client_msg_id="n", body="new", room=GENERAL))
    await bob.expect(Ack)

    stale = await alice.run("history", "general")
    assert stale.code == 2 and "tchat login" in stale.err  # the old token died with the database
    await alice.login(proxy.url, "alice")
    cache = Cache(alice.profiles.get().cache_path)
    assert cache.epoch not in {None, old_epoch} and cache.recent(GENERAL) == []
    cache.close()
    shown = await alice.ok("history", "general", "--json")
    assert [json.loads(line)["body"] for line in shown.lines] == ["new"]
