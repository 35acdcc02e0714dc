"""``tchat search`` end to end: the real CLI against a real server."""

from __future__ import annotations

import json
from collections.abc import Callable

from shared.frames import CreateRoom, RoomJoined
from tchat_client.exits import ExitCode
from tests.client.conftest import Cli
from tests.conftest import Running
from tests.server.util import post, room_id


async def test_search_prints_matches_newest_first_and_keeps_private_rooms_private(
    srv: Running, cli: Callable[[str], Cli]
) -> None:
    for name in ("alice", "bob"):
        await srv.user(name)
    bob = await srv.connect("bob")
    general = room_id(bob)
    await bob.send(CreateRoom(name="vault", kind="group", rid="g"))
    vault = (await bob.find(RoomJoined, where=lambda j: j.room.name == "vault")).room.id
    await post(bob, general, "first deploy")
    await post(bob, vault, "secret deploy")
    await post(bob, general, "second deploy \x1b[31mred\x1b[0m")
    alice = cli("alice")
    await alice.login(srv.url, "alice")

    found = await alice.ok("search", "deploy", "from:bob", "--json")
    rows = [json.loads(line) for line in found.lines]
    assert [(r["room_name"], r["author"], r["body"]) for r in rows] == [
        ("#general", "bob", "second deploy \x1b[31mred\x1b[0m"),
        ("#general", "bob", "first deploy"),
    ]

    text = await alice.ok("search", "deploy", "--limit", "1")
    [line] = text.lines
    assert line.startswith("#general  bob  ") and line.endswith("second deploy ␛[31mred␛[0m")

    refused = await alice.run("search", "in:vault", "deploy")
    assert refused.code == ExitCode.UNKNOWN and refused.out == ""
    assert "secret" not in refused.err
