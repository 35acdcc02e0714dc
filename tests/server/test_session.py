"""The session's outbound rules, driven without a socket: what a resume replayed is
never sent again, and a replay is not lag."""

from __future__ import annotations

import asyncio

from shared.errors import CloseCode
from tchat_server.session import Session


class Sink:
    """The two callables a transport hands a session, recording what they get."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed: list[int] = []
        self.changed = asyncio.Event()

    async def send(self, data: bytes) -> None:
        self.sent.append(data)
        self.changed.set()

    async def close(self, code: int, reason: str) -> None:
        self.closed.append(code)
        self.changed.set()


def session(sink: Sink, max_queue: int = 10) -> Session:
    s = Session(
        user_id=1,
        user_name="bob",
        is_admin=False,
        token_hash=b"t",
        address="127.0.0.1",
        send=sink.send,
        close=sink.close,
        max_queue=max_queue,
    )
    s.max_batch = 1  # one send per frame here; batching: tests/server/test_session_batching.py
    return s


async def drain(s: Session, sink: Sink, until: bytes) -> None:
    sender = asyncio.get_running_loop().create_task(s.run_sender())
    try:
        while until not in sink.sent:
            sink.changed.clear()
            await sink.changed.wait()
    finally:
        sender.cancel()


async def test_messages_the_replay_covered_are_dropped_even_after_the_release() -> None:
    """A message can be visible to the resume's read before the committer publishes
    it: that live copy may arrive after the release and must still be dropped."""
    sink = Sink()
    s = session(sink)
    s.hold()
    s.push(b"held-5", room=7, seq=5)  # published during the replay
    s.push(b"presence")  # not a message: always delivered
    for seq in (4, 5, 6):
        s.push_direct(f"replay-{seq}".encode())
    s.release({7: 6})
    s.push(b"late-6", room=7, seq=6)  # committed before the read, published now
    s.push(b"live-7", room=7, seq=7)
    s.push(b"other-room-2", room=8, seq=2)
    await drain(s, sink, until=b"other-room-2")
    assert sink.sent == [
        b"replay-4",
        b"replay-5",
        b"replay-6",
        b"presence",
        b"live-7",
        b"other-room-2",
    ]


async def test_a_replay_longer_than_the_queue_is_not_lag_but_live_lag_is() -> None:
    sink = Sink()
    s = session(sink, max_queue=10)
    s.hold()
    for seq in range(1, 51):
        s.push_direct(f"replay-{seq}".encode())
    s.release({7: 50})
    for seq in range(51, 61):
        s.push(f"live-{seq}".encode(), room=7, seq=seq)
    assert not s.closing
    s.push(b"live-61", room=7, seq=61)  # eleven live frames waiting: too far behind
    assert s.closing
    await sink.changed.wait()
    assert sink.sent == []  # dropped, not flushed
    assert sink.closed == [CloseCode.TOO_SLOW]
