"""A restart on the same data directory keeps history, seqs, read markers, sessions."""

from __future__ import annotations

from shared.frames import History, HistoryPage, MarkRead, MessagePosted, Ok
from tests.server.util import StartServer, post, room_id, round_trip, seqs_in
from tests.wire import hello


async def test_everything_durable_survives_a_restart(start_server: StartServer) -> None:
    first = await start_server()
    await first.user("alice")
    await first.user("bob")
    alice = await first.connect("alice")
    bob = await first.connect("bob")
    general = room_id(alice)
    for n in range(4):
        await post(alice, general, f"before {n}")
    await post(alice, general, "@bob look at this")
    await bob.send(MarkRead(room=general, seq=3, rid="read"))
    await bob.find(Ok, where=lambda ok: ok.rid == "read")
    assert alice.welcome is not None and alice.welcome.token is not None
    token, epoch = alice.welcome.token, alice.welcome.epoch
    await first.stop()

    second = await start_server()
    # The session token from the first welcome still works.
    alice = await hello(second.url, token)
    second.wires.append(alice)
    assert alice.welcome is not None
    assert alice.welcome.epoch == epoch and alice.welcome.token is None
    assert alice.welcome.user.name == "alice"
    room = next(r for r in alice.welcome.rooms if r.id == general)
    assert (room.latest_seq, room.last_read_seq, room.unread) == (5, 5, 0)

    bob = await second.connect("bob")
    assert bob.welcome is not None
    room = next(r for r in bob.welcome.rooms if r.id == general)
    assert (room.latest_seq, room.last_read_seq, room.unread, room.mentions) == (5, 3, 2, 1)

    # New seqs continue where the first server stopped; history is intact.
    ack = await post(alice, general, "after")
    assert ack.seq == 6
    posted = await bob.find(MessagePosted, where=lambda p: p.message.seq == 6)
    assert posted.message.body == "after"
    await bob.send(History(room=general, rid="h"))
    page = await bob.find(HistoryPage, where=lambda p: p.rid == "h")
    assert [m.body for m in page.messages] == [
        "before 0",
        "before 1",
        "before 2",
        "before 3",
        "@bob look at this",
        "after",
    ]
    assert await seqs_in(second, general) == [1, 2, 3, 4, 5, 6]


async def test_stop_commits_every_send_it_accepted(start_server: StartServer) -> None:
    """Sends queued for the group committer when the server stops are stored and
    resolved, not cancelled half-way (their senders would wait forever)."""
    srv = await start_server()
    await srv.user("alice")
    alice = await srv.connect("alice")
    general = room_id(alice)
    await round_trip(alice)
    user = await srv.services.users.get_by_name("alice")
    assert user is not None
    futures = [
        await srv.services.messages.post(general, user.id, "alice", f"q{n}", f"queued {n}")
        for n in range(3000)
    ]
    await srv.stop()

    assert all(future.done() for future in futures)
    assert [future.result().seq for future in futures] == list(range(1, 3001))
    again = await start_server()
    assert await seqs_in(again, general) == list(range(1, 3001))
