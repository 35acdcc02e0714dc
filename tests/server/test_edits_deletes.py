"""Edits and deletes: only the author edits; the author or a moderator deletes,
leaving a tombstone; every change is announced whole and counted once."""

from __future__ import annotations

from shared.errors import ErrorCode
from shared.frames import (
    CreateRoom,
    Delete,
    Edit,
    History,
    HistoryPage,
    Join,
    Mute,
    React,
    RoomModerated,
    Search,
    SearchResults,
    Send,
)
from tests.conftest import Running
from tests.server.changes_util import latest_change, ok, people, refused, row, send, updated
from tests.server.util import room_id, round_trip
from tests.wire import Wire, next_rid


async def search(wire: Wire, query: str) -> list[int]:
    rid = next_rid()
    await wire.send(Search(query=query, rid=rid))
    found = await wire.find(SearchResults, where=lambda r: r.rid == rid)
    return [m.seq for m in found.messages]


async def test_an_edit_reaches_the_room_and_history(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    ack = await send(alice, general, "helo world")
    await ok(alice, Edit(room=general, seq=ack.seq, body="hello world  ", rid=next_rid()))

    seen = await updated(bob, ack.seq)
    assert seen.body == "hello world"  # trimmed like a send
    assert seen.edited is not None and seen.edited >= ack.ts
    assert seen.change == 1
    assert seen.client_msg_id == ack.client_msg_id
    rid = next_rid()
    await bob.send(History(room=general, rid=rid))
    page = await bob.find(HistoryPage, where=lambda h: h.rid == rid)
    assert page.messages[-1].body == "hello world" and page.messages[-1].edited is not None
    assert await search(bob, "hello") == [ack.seq]
    assert await search(bob, "helo") == []

    # The same body again is a no-op: no second change.
    await ok(alice, Edit(room=general, seq=ack.seq, body="hello world", rid=next_rid()))
    assert await latest_change(srv, general) == 1


async def test_edit_refusals_change_nothing(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    ack = await send(alice, general, "mine")

    code = await refused(bob, Edit(room=general, seq=ack.seq, body="hijacked", rid=next_rid()))
    assert code == ErrorCode.FORBIDDEN
    code = await refused(alice, Edit(room=general, seq=999, body="nothing", rid=next_rid()))
    assert code == ErrorCode.MESSAGE_NOT_FOUND
    code = await refused(alice, Edit(room=general, seq=ack.seq, body="   ", rid=next_rid()))
    assert code == ErrorCode.EMPTY_BODY
    code = await refused(alice, Edit(room=general, seq=ack.seq, body="x" * 4001, rid=next_rid()))
    assert code == ErrorCode.BODY_TOO_LONG

    stored = await row(srv, general, ack.seq)
    assert stored["body"] == "mine"
    assert stored["edited_at"] is None and stored["change_seq"] == 0
    assert await latest_change(srv, general) == 0


async def test_a_delete_leaves_a_tombstone_everywhere(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    general = room_id(alice)
    ack = await send(alice, general, "regrettable words")
    await ok(bob, React(room=general, seq=ack.seq, emoji="👍", rid=next_rid()))
    await updated(alice, ack.seq, change=1)
    await ok(alice, Delete(room=general, seq=ack.seq, rid=next_rid()))

    tomb = await updated(bob, ack.seq, change=2)
    assert tomb.deleted and tomb.body == "" and tomb.reactions == []
    stored = await row(srv, general, ack.seq)
    assert stored["deleted"] == 1 and stored["body"] == ""
    reactions = await srv.services.db.fetch_all("SELECT * FROM reactions")
    assert reactions == []
    assert await search(bob, "regrettable") == []
    assert await search(bob, "from:alice") == []  # filters alone skip tombstones too

    # Deleting it again is a no-op; editing or reacting to it is refused.
    await ok(alice, Delete(room=general, seq=ack.seq, rid=next_rid()))
    assert await latest_change(srv, general) == 2
    code = await refused(alice, Edit(room=general, seq=ack.seq, body="back", rid=next_rid()))
    assert code == ErrorCode.MESSAGE_NOT_FOUND
    code = await refused(bob, React(room=general, seq=ack.seq, emoji="👍", rid=next_rid()))
    assert code == ErrorCode.MESSAGE_NOT_FOUND
    assert (await row(srv, general, ack.seq))["body"] == ""


async def test_only_the_author_or_a_moderator_deletes(srv: Running) -> None:
    alice, bob, carol = await people(srv, "alice", "bob", "carol")
    general = room_id(alice)
    ack = await send(alice, general, "alice's")
    code = await refused(bob, Delete(room=general, seq=ack.seq, rid=next_rid()))
    assert code == ErrorCode.FORBIDDEN
    code = await refused(bob, Delete(room=general, seq=77, rid=next_rid()))
    assert code == ErrorCode.MESSAGE_NOT_FOUND
    stored = await row(srv, general, ack.seq)
    assert stored["deleted"] == 0 and stored["body"] == "alice's"
    assert await latest_change(srv, general) == 0

    # carol creates #ops, so she owns (moderates) it: she may delete bob's message.
    await ok(carol, CreateRoom(name="ops", rid=next_rid()))
    ops = await srv.services.room_store.get_by_name("ops")
    assert ops is not None
    await ok(bob, Join(name="ops", rid=next_rid()))
    bobs = await send(bob, ops.id, "spam spam")
    await ok(carol, Delete(room=ops.id, seq=bobs.seq, rid=next_rid()))
    tomb = await updated(bob, bobs.seq)
    assert tomb.deleted and tomb.author == "bob"
    assert (await row(srv, ops.id, bobs.seq))["deleted"] == 1
    # A moderator's delete is announced and audited (the moderation feature's part).
    notice = await bob.find(RoomModerated, where=lambda m: m.action == "delete")
    assert (notice.room, notice.seq, notice.by, notice.user) == (ops.id, bobs.seq, "carol", "bob")
    # Her own message: no moderation notice.
    mine = await send(carol, ops.id, "mine")
    await ok(carol, Delete(room=ops.id, seq=mine.seq, rid=next_rid()))
    await updated(bob, mine.seq)
    await round_trip(bob)  # anything published with carol's ok has reached bob
    assert [m.seq for m in bob.seen(RoomModerated) if m.action == "delete"] == [bobs.seq]


async def test_no_changes_in_a_room_you_are_not_in(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    await ok(alice, CreateRoom(name="secret", kind="group", rid=next_rid()))
    group = await srv.services.room_store.get_by_name("secret")
    assert group is not None
    ack = await send(alice, group.id, "private")
    for frame in (
        Edit(room=group.id, seq=ack.seq, body="x", rid=next_rid()),
        Delete(room=group.id, seq=ack.seq, rid=next_rid()),
        React(room=group.id, seq=ack.seq, emoji="👍", rid=next_rid()),
    ):
        # A private group one is not in does not exist, as far as one can tell.
        assert await refused(bob, frame) == ErrorCode.ROOM_NOT_FOUND
    stored = await row(srv, group.id, ack.seq)
    assert stored["body"] == "private" and stored["change_seq"] == 0


async def test_a_muted_member_may_not_edit_or_react_but_may_delete(srv: Running) -> None:
    alice, bob = await people(srv, "alice", "bob")
    await ok(alice, CreateRoom(name="town", rid=next_rid()))  # alice owns it
    town = await srv.services.room_store.get_by_name("town")
    assert town is not None
    await ok(bob, Join(name="town", rid=next_rid()))
    ack = await send(bob, town.id, "first draft")
    await ok(alice, Mute(room=town.id, user="bob", rid=next_rid()))

    code = await refused(bob, Edit(room=town.id, seq=ack.seq, body="second", rid=next_rid()))
    assert code == ErrorCode.MUTED
    code = await refused(bob, React(room=town.id, seq=ack.seq, emoji="👍", rid=next_rid()))
    assert code == ErrorCode.MUTED
    stored = await row(srv, town.id, ack.seq)
    assert stored["body"] == "first draft" and stored["change_seq"] == 0
    assert await srv.services.db.fetch_all("SELECT * FROM reactions") == []

    await ok(bob, Delete(room=town.id, seq=ack.seq, rid=next_rid()))
    assert (await row(srv, town.id, ack.seq))["deleted"] == 1


async def test_a_file_card_needs_the_files_feature(srv: Running) -> None:
    (alice,) = await people(srv, "alice")
    general = room_id(alice)
    srv.services.messages.attach_check = None  # files off
    before = await srv.services.message_store.count()
    frame = Send(client_msg_id="f1", body="", room=general, file=1)
    assert await refused(alice, frame) == ErrorCode.FILE_NOT_FOUND
    frame = Send(client_msg_id="f2", body="  ", room=general)
    assert await refused(alice, frame) == ErrorCode.EMPTY_BODY  # no file: text needed
    assert await srv.services.message_store.count() == before
