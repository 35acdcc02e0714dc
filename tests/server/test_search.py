"""Search through a real server: words and filters, newest first, paging, injection
attempts, and privacy: a private group's or another pair's DM's messages never reach
anyone else's results, whatever the filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.errors import ErrorCode
from shared.frames import Ack, CreateRoom, Error, RoomJoined, Search, SearchResults, Send
from tests.conftest import Running
from tests.server.util import message_count, post, room_id, round_trip
from tests.wire import Wire, next_rid


async def search(wire: Wire, query: str, **fields: object) -> SearchResults | Error:
    """Send a search and return its answer (results or the error naming it)."""
    rid = next_rid()
    await wire.send(Search(query=query, rid=rid, **fields))  # type: ignore[arg-type]
    answer = await wire.find(
        SearchResults | Error,  # type: ignore[arg-type]
        where=lambda frame: frame.rid == rid,  # type: ignore[attr-defined]
    )
    return answer  # type: ignore[no-any-return]


async def bodies(wire: Wire, query: str) -> list[str]:
    answer = await search(wire, query)
    assert isinstance(answer, SearchResults), answer
    return [m.body for m in answer.messages]


async def code(wire: Wire, query: str) -> str:
    answer = await search(wire, query)
    assert isinstance(answer, Error), answer
    return answer.code


class World:
    """alice, bob and carol in #general; bob's private group ``vault`` with alice;
    a DM between alice and bob. carol is in neither."""

    def __init__(self, alice: Wire, bob: Wire, carol: Wire, general: int, vault: int) -> None:
        self.alice, self.bob, self.carol = alice, bob, carol
        self.general, self.vault = general, vault


@pytest.fixture
async def world(srv: Running) -> World:
    for name in ("alice", "bob", "carol"):
        await srv.user(name)
    alice, bob, carol = [await srv.connect(n) for n in ("alice", "bob", "carol")]
    general = room_id(alice)
    await bob.send(CreateRoom(name="vault", kind="group", members=["alice"], rid="g"))
    vault = (await bob.find(RoomJoined, where=lambda j: j.room.name == "vault")).room.id
    old = await post(alice, general, "Deploy the release at noon")
    await post(bob, general, "the deploy went fine")
    await post(carol, general, "lunch anyone? déjà vu")
    await post(bob, vault, "secret deploy plans for the vault")
    await alice.send(Send(client_msg_id="dm1", body="deploy password is hunter2", dm="bob"))
    await alice.find(Ack, where=lambda ack: ack.client_msg_id == "dm1")
    await srv.services.message_store.set_created_at(
        old.id, datetime(2026, 1, 10, 12, tzinfo=UTC).timestamp()
    )
    return World(alice, bob, carol, general, vault)


async def test_words_and_filters_newest_first(world: World) -> None:
    alice, carol = world.alice, world.carol
    assert await bodies(alice, "deploy") == [
        "deploy password is hunter2",
        "secret deploy plans for the vault",
        "the deploy went fine",
        "Deploy the release at noon",
    ]
    assert await bodies(alice, "deploy from:Bob") == [
        "secret deploy plans for the vault",
        "the deploy went fine",
    ]
    assert await bodies(alice, "in:@bob") == ["deploy password is hunter2"]
    assert await bodies(alice, "in:#general deploy") == [
        "the deploy went fine",
        "Deploy the release at noon",
    ]
    assert await bodies(alice, "in:vault") == ["secret deploy plans for the vault"]
    assert await bodies(alice, "deploy before:2026-02-01") == ["Deploy the release at noon"]
    assert "Deploy the release at noon" not in await bodies(alice, "deploy after:2026-01-10")
    assert len(await bodies(alice, "deploy after:2026-01-09")) == 4
    assert await bodies(alice, '"deploy went"') == ["the deploy went fine"]
    assert await bodies(alice, "deplo*") == await bodies(alice, "deploy")
    assert await bodies(carol, "deja") == ["lunch anyone? déjà vu"]  # diacritics ignored
    assert await bodies(alice, "deploy has:file") == []  # no files exist yet
    assert await code(alice, "deploy before:2026-13-01") == ErrorCode.QUERY_INVALID
    assert await code(alice, "from:nobody") == ErrorCode.USER_NOT_FOUND


async def test_paging_with_before_id(world: World) -> None:
    first = await search(world.alice, "deploy", limit=3)
    assert isinstance(first, SearchResults) and first.more and len(first.messages) == 3
    rest = await search(world.alice, "deploy", limit=3, before_id=first.messages[-1].id)
    assert isinstance(rest, SearchResults) and not rest.more
    assert [m.body for m in rest.messages] == ["Deploy the release at noon"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "*",
        "NEAR(",
        "NEAR(deploy lunch)",
        "deploy OR lunch",
        "-deploy",
        '"unbalanced',
        'a"b',
        "AND",
        "body:deploy",
        "^deploy",
        "deploy NOT went",
        "{body}: deploy",
        "(",
        "''",
    ],
)
async def test_user_text_is_never_fts_syntax(world: World, query: str) -> None:
    answer = await search(world.alice, query)
    if isinstance(answer, Error):
        assert answer.code == ErrorCode.QUERY_INVALID, answer
        return
    found = [m.body for m in answer.messages]
    # Operators are words here: "deploy OR lunch" needs all three words, and no
    # message holds "or", "not" or "near" besides.
    if query in ("deploy OR lunch", "deploy NOT went", "NEAR(deploy lunch)", "AND"):
        assert found == [], query
    if query in ("-deploy", "^deploy", "body:deploy", "{body}: deploy"):
        assert all("deploy" in b.lower() for b in found), query
    if query == "-deploy":  # not a negation: the word itself
        assert len(found) == 4


async def test_private_rooms_never_reach_others_by_any_filter(srv: Running, world: World) -> None:
    carol = world.carol
    rows = await message_count(srv)
    for query in ("deploy", "secret", "hunter2", "vault", "from:bob", "from:alice", "password"):
        found = await bodies(carol, query)
        assert not any("secret" in b or "hunter2" in b for b in found), (query, found)
    assert await bodies(carol, "deploy") == ["the deploy went fine", "Deploy the release at noon"]
    # A private group and someone else's DM answer exactly like rooms that do not exist.
    missing = await search(carol, "in:nosuchroom")
    for query in ("in:vault", "in:#vault", "in:vault secret", "in:@bob", "in:@alice hunter2"):
        answer = await search(carol, query)
        assert isinstance(answer, Error), (query, answer)
        assert (answer.code, answer.message.replace(query.split()[0][3:], "?")) == (
            missing.code,  # type: ignore[union-attr]
            missing.message.replace("nosuchroom", "?"),  # type: ignore[union-attr]
        )
    # Paging cannot reach past the membership join either.
    after = await search(carol, "deploy", before_id=2**53 - 1)
    assert isinstance(after, SearchResults) and len(after.messages) == 2
    # Refusals change nothing: no rows, carol is still served.
    assert await message_count(srv) == rows
    await round_trip(carol)


async def test_a_room_left_is_no_longer_searched(srv: Running, world: World) -> None:
    from shared.frames import Leave, Ok

    alice = world.alice
    assert await bodies(alice, "in:vault") == ["secret deploy plans for the vault"]
    await alice.send(Leave(room=world.vault, rid="leave"))
    await alice.find(Ok, where=lambda ok: ok.rid == "leave")
    assert await code(alice, "in:vault") == ErrorCode.ROOM_NOT_FOUND
    assert "secret deploy plans for the vault" not in await bodies(alice, "deploy")
