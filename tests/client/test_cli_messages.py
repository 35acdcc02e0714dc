"""The CLI end to end: real server, real sockets, one ``TCHAT_HOME`` per user."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Awaitable, Callable

from shared.frames import Ack, Send
from tests.client.conftest import Cli, eventually, read_line
from tests.client.proxy import Proxy
from tests.conftest import Running

Start = Callable[..., Awaitable[Running]]


async def _online(srv: Running, name: str) -> bool:
    user = await srv.services.users.get_by_name(name)
    return user is not None and srv.services.hub.is_online(user.id)


async def test_alice_posts_bob_reads_history_and_follows(
    srv: Running, cli: Callable[[str], Cli]
) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice, bob = cli("alice"), cli("bob")
    await alice.login(srv.url, "alice")
    await bob.login(srv.url, "bob")

    follow = await bob.spawn("tail", "general", "-f", "--json")
    try:
        await eventually(lambda: _online(srv, "bob"))
        await alice.ok("send", "#general", "hello", "everyone")
        await alice.ok("send", "@bob", stdin="psst, bob\nsecond line\n")
        await alice.ok("send", "general", "bare names find channels")

        first = json.loads(await read_line(follow))
        second = json.loads(await read_line(follow))
        assert (first["author"], first["body"], first["room_name"]) == (
            "alice",
            "hello everyone",
            "#general",
        )
        assert second["body"] == "bare names find channels" and second["seq"] == first["seq"] + 1
    finally:
        follow.terminate()
        assert await follow.wait() == 0

    general = await bob.ok("history", "#general", "--json")
    assert [json.loads(line)["body"] for line in general.lines] == [
        "hello everyone",
        "bare names find channels",
    ]
    dm = await bob.ok("history", "@alice", "--json")
    [message] = [json.loads(line) for line in dm.lines]
    assert message["body"] == "psst, bob\nsecond line" and message["room_name"] == "@alice"

    text = await bob.ok("tail", "@alice")
    assert text.lines[0].endswith("<alice> psst, bob") and text.lines[1] == "    second line"

    rooms = json.loads((await bob.ok("rooms", "--json")).out)
    by_label = {room["label"]: room for room in rooms}
    assert by_label["#general"]["kind"] == "channel" and by_label["#general"]["unread"] == 2
    assert by_label["@alice"]["kind"] == "dm" and by_label["@alice"]["unread"] == 1
    listed = await bob.ok("rooms")
    assert listed.lines[0].split() == ["ROOM", "KIND", "UNREAD", "MENTIONS", "TOPIC"]


async def test_login_keeps_only_a_private_token(srv: Running, cli: Callable[[str], Cli]) -> None:
    await srv.user("alice")
    alice = cli("alice")
    await alice.login(srv.url, "alice")
    profile = alice.profiles.get()
    assert profile.user == "alice" and profile.server == srv.url
    assert stat.S_IMODE(os.stat(profile.token_path).st_mode) == 0o600
    stored = b"".join(p.read_bytes() for p in alice.home.rglob("*") if p.is_file())
    assert b"correct horse battery" not in stored

    await alice.ok("logout")
    assert profile.token() is None
    result = await alice.run("rooms")
    assert result.code == 6 and result.err.startswith("tchat: ")


async def test_tail_follows_across_a_cut_connection(
    srv: Running, proxy_to: Callable[[Running], Awaitable[Proxy]], cli: Callable[[str], Cli]
) -> None:
    await srv.user("alice")
    await srv.user("bob")
    proxy = await proxy_to(srv)
    alice, bob = cli("alice"), cli("bob")
    await alice.login(srv.url, "alice")
    await bob.login(proxy.url, "bob")
    follow = await bob.spawn("tail", "-f", "--json", "-n", "1", "general")
    try:
        await eventually(lambda: _online(srv, "bob"))
        await alice.ok("send", "general", "before the cut")
        assert json.loads(await read_line(follow))["body"] == "before the cut"
        proxy.cut()
        await alice.ok("send", "general", "while bob was away")
        await alice.ok("send", "general", "after")
        lines = [json.loads(await read_line(follow)) for _ in range(2)]
        assert [m["body"] for m in lines] == ["while bob was away", "after"]
        assert [m["seq"] for m in lines] == [2, 3]
    finally:
        follow.terminate()
        assert await follow.wait() == 0
    assert proxy.accepted >= 3  # bob's login, his first connection, the reconnection


async def test_history_pages_back_and_register(
    start_server: Start, cli: Callable[[str], Cli]
) -> None:
    srv = await start_server(rate_per_second=1000.0, rate_burst=1000)
    await srv.user("bob")
    bob = await srv.connect("bob")
    for n in range(160):
        await bob.send(Send(client_msg_id=f"m{n}", body=f"message {n}", room=1))
    for _ in range(160):
        await bob.expect(Ack)
    carol = cli("carol")
    await carol.ok(
        "login",
        "--register",
        "--server",
        srv.url,
        "--user",
        "carol",
        "--password-stdin",
        stdin="a new password\n",
    )
    page = await carol.ok("history", "general", "--limit", "150", "--json")
    assert [json.loads(line)["seq"] for line in page.lines] == list(range(11, 161))
    short = await carol.ok("tail", "#general", "-n", "2")
    assert [line.split("> ", 1)[1] for line in short.lines] == ["message 158", "message 159"]
