"""Adaptive batching in the session's sender: no sockets, a recording ``send``."""

from __future__ import annotations

import asyncio
import json

from tchat_server.session import Session


class Recorder:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send(self, data: bytes) -> None:
        await self.gate.wait()
        self.sent.append(data)

    async def close(self, code: int, reason: str) -> None:
        pass


def _session(recorder: Recorder, max_queue: int = 100) -> Session:
    return Session(
        user_id=1,
        user_name="a",
        is_admin=False,
        token_hash=b"h",
        address="127.0.0.1",
        send=recorder.send,
        close=recorder.close,
        max_queue=max_queue,
    )


def frame(n: int) -> bytes:
    return json.dumps({"type": "pong", "ts": float(n)}).encode()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_lone_frame_goes_out_at_once_as_a_plain_object() -> None:
    recorder = Recorder()
    session = _session(recorder)
    sender = asyncio.get_running_loop().create_task(session.run_sender())
    session.push(frame(0))  # the welcome: always alone
    await _settle()
    session.push(frame(1))
    await _settle()
    assert recorder.sent == [frame(0), frame(1)]
    sender.cancel()


async def test_queued_frames_go_out_as_one_array_in_order() -> None:
    recorder = Recorder()
    session = _session(recorder)
    sender = asyncio.get_running_loop().create_task(session.run_sender())
    session.push(frame(0))
    await _settle()
    recorder.gate.clear()  # the socket is busy: frames queue up behind it
    session.push(frame(1))
    await _settle()
    for n in range(2, 6):
        session.push(frame(n))
    recorder.gate.set()
    await _settle()
    assert recorder.sent[:2] == [frame(0), frame(1)]
    assert json.loads(recorder.sent[2]) == [json.loads(frame(n)) for n in range(2, 6)]
    assert len(recorder.sent) == 3
    sender.cancel()


async def test_the_first_frame_is_never_batched() -> None:
    recorder = Recorder()
    session = _session(recorder)
    for n in range(3):
        session.push(frame(n))
    sender = asyncio.get_running_loop().create_task(session.run_sender())
    await _settle()
    assert recorder.sent[0] == frame(0)
    assert json.loads(recorder.sent[1]) == [json.loads(frame(1)), json.loads(frame(2))]
    sender.cancel()


async def test_batches_respect_the_frame_and_byte_caps() -> None:
    recorder = Recorder()
    session = _session(recorder, max_queue=1000)
    session.max_batch = 4
    for n in range(11):
        session.push(frame(n))
    sender = asyncio.get_running_loop().create_task(session.run_sender())
    await _settle()
    sizes = [1 if not s.startswith(b"[") else len(json.loads(s)) for s in recorder.sent]
    assert sizes == [1, 4, 4, 2]
    flat = [recorder.sent[0]] + [
        json.dumps(item).encode() for s in recorder.sent[1:] for item in json.loads(s)
    ]
    assert [json.loads(f)["ts"] for f in flat] == [float(n) for n in range(11)]

    recorder.sent.clear()
    session.max_batch = 64
    session.max_batch_bytes = len(frame(20)) * 2 + 1  # two frames and a comma
    for n in range(20, 25):
        session.push(frame(n))
    await _settle()
    sizes = [1 if not s.startswith(b"[") else len(json.loads(s)) for s in recorder.sent]
    assert sizes == [2, 2, 1]
    sender.cancel()


async def test_one_frame_per_event_when_batching_is_off() -> None:
    recorder = Recorder()
    session = _session(recorder)
    session.max_batch = 1
    for n in range(4):
        session.push(frame(n))
    sender = asyncio.get_running_loop().create_task(session.run_sender())
    await _settle()
    assert recorder.sent == [frame(n) for n in range(4)]
    sender.cancel()
