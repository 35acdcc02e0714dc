"""Reactions: one emoji (or its shortcode) per reaction, grouped per emoji in the
order people reacted; repeats are no-ops; at most 20 different emoji."""

from __future__ import annotations

from shared.errors import ErrorCode
from shared.frames import History, HistoryPage, React, Search, SearchResults
from shared.shapes import Reaction
from tests.conftest import Running
from tests.server.changes_util import latest_change, ok, people, refused, send, updated
from tests.server.util import FAST, StartServer, room_id
from tests.wire import next_rid


async def test_reactions_are_grouped_and_seen_live(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    ack = await send(alice, general, "ship it?")

    await ok(alice, React(room=general, seq=ack.seq, emoji=":thumbsup:", rid=next_rid()))
    seen = await updated(bob, ack.seq, change=1)
    assert seen.reactions == [Reaction(emoji="👍", users=["alice"])]
    await ok(bob, React(room=general, seq=ack.seq, emoji="👍", rid=next_rid()))
    await ok(bob, React(room=general, seq=ack.seq, emoji="❤", rid=next_rid()))
    seen = await updated(alice, ack.seq, change=3)
    assert seen.reactions == [
        Reaction(emoji="👍", users=["alice", "bob"]),
        Reaction(emoji="❤️", users=["bob"]),  # ❤ and ❤️ are one reaction
    ]

    # Repeats and removing what one never gave change nothing.
    await ok(bob, React(room=general, seq=ack.seq, emoji=":heart:", rid=next_rid()))
    await ok(alice, React(room=general, seq=ack.seq, emoji="🎉", remove=True, rid=next_rid()))
    assert await latest_change(srv, general) == 3

    await ok(alice, React(room=general, seq=ack.seq, emoji="👍", remove=True, rid=next_rid()))
    seen = await updated(bob, ack.seq, change=4)
    assert seen.reactions == [
        Reaction(emoji="👍", users=["bob"]),
        Reaction(emoji="❤️", users=["bob"]),
    ]
    rid = next_rid()
    await alice.send(History(room=general, rid=rid))
    page = await alice.find(HistoryPage, where=lambda h: h.rid == rid)
    assert page.messages[-1].reactions == seen.reactions
    assert page.messages[-1].change == 4
    rid = next_rid()
    await bob.send(Search(query="ship", rid=rid))
    found = await bob.find(SearchResults, where=lambda r: r.rid == rid)
    assert [(m.seq, m.reactions, m.change) for m in found.messages] == [
        (ack.seq, seen.reactions, 4)
    ]


async def test_bad_emoji_and_unknown_messages_are_refused(srv: Running) -> None:
    (alice,) = await people(srv, "alice")
    general = room_id(alice)
    ack = await send(alice, general, "react to me")
    for bad in ("notanemoji", ":nosuchcode:", "👍👍", "a"):
        code = await refused(alice, React(room=general, seq=ack.seq, emoji=bad, rid=next_rid()))
        assert code == ErrorCode.EMOJI_INVALID, bad
    code = await refused(alice, React(room=general, seq=404, emoji="👍", rid=next_rid()))
    assert code == ErrorCode.MESSAGE_NOT_FOUND
    assert await srv.services.db.fetch_all("SELECT * FROM reactions") == []
    assert await latest_change(srv, general) == 0


async def test_a_message_holds_at_most_20_different_emoji(start_server: StartServer) -> None:
    srv = await start_server(**FAST)
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    ack = await send(alice, general, "react away")
    emoji = ["😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊",
             "😋", "😎", "😍", "😘", "🥰", "😗", "😙", "😚", "🙂", "🤗"]  # fmt: skip
    for one in emoji:
        await ok(alice, React(room=general, seq=ack.seq, emoji=one, rid=next_rid()))
    code = await refused(alice, React(room=general, seq=ack.seq, emoji="🤩", rid=next_rid()))
    assert code == ErrorCode.TOO_MANY_REACTIONS
    # Joining one of the twenty is still fine.
    await ok(bob, React(room=general, seq=ack.seq, emoji="😀", rid=next_rid()))
    rows = await srv.services.db.fetch_all("SELECT DISTINCT emoji FROM reactions")
    assert len(rows) == 20
    assert await latest_change(srv, general) == 21
