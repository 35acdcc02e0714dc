"""The session's fast path: frames pushed during one callback are written together
by the outbox's one callback, with the synchronous ``write``; when the socket
pushes back, a task takes over until it drains, and nothing is lost or reordered.
An idle session has no task at all."""

from __future__ import annotations

import asyncio
import json

from shared.errors import CloseCode
from tchat_server.session import Joined, Outbox, Session


class Socket:
    """``write`` (synchronous, may refuse) and ``send``/``close`` (the task's path)."""

    def __init__(self) -> None:
        self.wire: list[tuple[str, bytes]] = []
        self.full = False
        self.closed: list[int] = []
        self.drained = asyncio.Event()
        self.drained.set()

    def write(self, data: bytes) -> bool:
        if self.full:
            return False
        self.wire.append(("write", data))
        return True

    async def send(self, data: bytes) -> None:
        self.wire.append(("send", data))
        await self.drained.wait()

    async def close(self, code: int, reason: str) -> None:
        self.closed.append(code)


def frame(n: int) -> bytes:
    return json.dumps({"type": "pong", "ts": float(n)}).encode()


def frames_of(data: bytes) -> list[float]:
    decoded = json.loads(data)
    return [f["ts"] for f in decoded] if isinstance(decoded, list) else [decoded["ts"]]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _session(socket: Socket, outbox: Outbox, max_queue: int = 100) -> Session:
    return Session(
        user_id=1,
        user_name="a",
        is_admin=False,
        token_hash=b"h",
        address="127.0.0.1",
        send=socket.send,
        close=socket.close,
        max_queue=max_queue,
        write=socket.write,
        outbox=outbox,
    )


async def test_one_callback_writes_each_session_once_without_any_task() -> None:
    outbox = Outbox()
    a, b = Socket(), Socket()
    sa, sb = _session(a, outbox), _session(b, outbox)
    sa.push(frame(0))  # the first frame (the welcome) goes alone
    sb.push(frame(0))
    assert a.wire == [] and b.wire == []  # nothing is written during the push itself
    await _settle()
    for n in (1, 2, 3):  # one callback's pushes: one write per session
        sa.push(frame(n))
        sb.push(frame(n))
    await _settle()
    for socket in (a, b):
        assert [how for how, _ in socket.wire] == ["write", "write"]
        assert [frames_of(data) for _, data in socket.wire] == [[0.0], [1.0, 2.0, 3.0]]
    sa.push(frame(4))  # a lone frame: a plain object, at once
    await _settle()
    assert a.wire[-1] == ("write", frame(4))
    assert sa._drainer is None and sb._drainer is None  # no task was ever needed


async def test_a_full_socket_hands_over_to_a_task_in_order() -> None:
    outbox = Outbox()
    socket = Socket()
    session = _session(socket, outbox)
    session.push(frame(0))
    await _settle()
    socket.full = True  # over the high-water mark: write refuses
    socket.drained.clear()  # and the task's send waits for the drain
    session.push(frame(1))
    await _settle()
    assert socket.wire[-1] == ("send", frame(1))
    for n in (2, 3):  # queued behind the send that waits
        session.push(frame(n))
    await _settle()
    assert len(socket.wire) == 2  # neither path writes while the send is waiting
    socket.full = False
    socket.drained.set()
    await _settle()
    session.push(frame(4))
    await _settle()
    sent = [t for _, data in socket.wire for t in frames_of(data)]
    assert sent == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert socket.wire[2][0] == "send"  # the task drained what queued behind it
    assert socket.wire[3] == ("write", frame(4))  # then the fast path again
    assert session._drainer is None  # the task ended with the queue


async def test_a_flushing_close_sends_what_is_queued_then_closes() -> None:
    outbox = Outbox()
    socket = Socket()
    session = _session(socket, outbox)
    session.push(frame(0))
    session.push(frame(1))
    session.close(CloseCode.NORMAL, "bye", flush=True)
    for _ in range(50):
        await _settle()
        if socket.closed:
            break
    assert [t for _, data in socket.wire for t in frames_of(data)] == [0.0, 1.0]
    assert socket.closed == [CloseCode.NORMAL]
    session.push(frame(2))  # after the close: dropped
    await _settle()
    assert len(socket.wire) == 2


async def test_a_session_too_far_behind_is_closed_and_its_queue_dropped() -> None:
    outbox = Outbox()
    socket = Socket()
    session = _session(socket, outbox)
    socket.full = True
    socket.drained.clear()
    for n in range(102):  # max_queue is 100: the send waiting holds one
        session.push(frame(n))
        await _settle()
    assert session.closing
    await _settle()
    assert socket.closed == [CloseCode.TOO_SLOW]
    assert [how for how, _ in socket.wire] == ["send"]  # only the frame it was sending
    session.stop()  # the connection ends: the task waiting for the socket goes too
    await _settle()
    assert session._drainer is None


async def test_a_write_that_fails_closes_that_session_only() -> None:
    outbox = Outbox()
    broken, fine = Socket(), Socket()

    def fails(data: bytes) -> bool:
        raise OSError("gone")

    broken.write = fails  # type: ignore[method-assign]
    sb, sf = _session(broken, outbox), _session(fine, outbox)
    sb.push(frame(0))
    sf.push(frame(0))
    await _settle()
    assert sb.closing and not sf.closing
    assert broken.closed == [CloseCode.TRY_AGAIN_LATER]
    assert fine.wire == [("write", frame(0))]
    sf.push(frame(1))
    await _settle()
    assert fine.wire[-1] == ("write", frame(1))


async def test_joined_frames_go_out_as_one_array_and_count_as_frames_against_the_lag() -> None:
    outbox = Outbox()
    socket = Socket()
    session = _session(socket, outbox)
    session.push(frame(0))
    await _settle()
    shared = Joined.of([frame(1), frame(2), frame(3)])  # built once for many sessions
    session.push_joined(shared)
    await _settle()
    assert socket.wire[-1] == ("write", b"[" + bytes(shared) + b"]")
    assert frames_of(socket.wire[-1][1]) == [1.0, 2.0, 3.0]
    session.push_joined(shared)  # queued with a lone frame: one flat array
    session.push(frame(4))
    await _settle()
    assert frames_of(socket.wire[-1][1]) == [1.0, 2.0, 3.0, 4.0]

    slow = _session(Socket(), outbox, max_queue=10)
    for _ in range(3):  # pushed in one callback: nothing is written in between
        slow.push_joined(shared)  # 9 frames in 3 items
    assert not slow.closing
    slow.push(frame(5))
    slow.push(frame(6))  # the 11th frame
    assert slow.closing
