"""Property-based bad input against the real server process: every frame type with
random, missing, mistyped and oversized fields, and raw garbage, as the first frame
and after it. The server answers each (an error frame, an answer, or the documented
close code), never with ``internal``, never crashes, never logs a traceback, and
what it stores stays consistent; a bystander is served throughout.

Frames come from ``strategies``, derived from ``shared.frames`` itself. The tests
are plain functions driving their own event loop, so that one server process and
one session serve every example of a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from shared.errors import CloseCode, ErrorCode
from shared.frames import Error, Ping, Pong, ServerFrame, Welcome
from tests.conftest import PASSWORD
from tests.faults.process import ServerProcess, free_port, seed_users
from tests.security.strategies import any_frame, encode_frame, first_frame
from tests.server.util import round_trip
from tests.wire import Wire, login

MAX_FRAME = 64 * 1024
FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_rids = itertools.count()


T = TypeVar("T")


class Target:
    """The server under fuzzing (a real process), a session to fuzz through, and a
    bystander, all on an event loop of the test's own."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = ServerProcess(
            tmp_path / "data",
            free_port(),
            {
                "registration": "closed",
                "max_connections_per_user": "1000",
                "flood_disconnect_after": "100000",
            },
        )
        self.bystander: Wire | None = None
        self.wire: Wire | None = None
        self.sessions = 0
        self.answered: dict[str, int] = {}

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, 30))

    async def start(self) -> None:
        await seed_users(self.server.data_dir, ["fuzzer", "bystander"])
        await self.server.start()
        self.bystander = await login(self.server.url, "bystander", PASSWORD)

    async def session(self) -> Wire:
        if self.wire is None or self.wire.closed is not None:
            if self.wire is not None:
                await self.wire.close()
            self.wire = await login(self.server.url, "fuzzer", PASSWORD)
            self.sessions += 1
        return self.wire

    def count(self, frames: list[ServerFrame]) -> None:
        for frame in frames:
            name = frame.code if isinstance(frame, Error) else type(frame).__name__
            self.answered[name] = self.answered.get(name, 0) + 1

    async def finish(self) -> None:
        """Still alive, still serving, still consistent, and nothing in the log."""
        assert self.bystander is not None
        await round_trip(self.bystander)
        for wire in (self.wire, self.bystander):
            if wire is not None:
                await wire.close()
        server = self.server
        assert server.proc is not None and server.proc.returncode is None
        gaps = server.read(
            "SELECT r.id FROM rooms r LEFT JOIN messages m ON m.room_id = r.id GROUP BY r.id "
            "HAVING count(m.id) != r.latest_seq OR coalesce(max(m.seq), 0) != r.latest_seq"
        )
        assert gaps == []
        assert server.read("PRAGMA integrity_check") == [("ok",)]
        assert await server.stop() == 0
        log = server.log()
        assert "Traceback" not in log and "internal error" not in log, log[-3000:]
        print(f"\nanswers: {dict(sorted(self.answered.items()))}; sessions {self.sessions}")

    async def close(self) -> None:
        for wire in (self.wire, self.bystander):
            if wire is not None:
                await wire.close()
        if self.server.proc is not None and self.server.proc.returncode is None:
            await self.server.kill()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    target = Target(tmp_path)
    try:
        target.run(target.start())
        yield target
    finally:
        target.run(target.close())
        target.loop.close()


async def answered(wire: Wire, raw: str | bytes) -> tuple[list[ServerFrame], int | None]:
    """Send ``raw``, then a ping: what came back before the pong, or the close code."""
    before = len(wire.frames)
    rid = f"fuzz{next(_rids)}"
    with contextlib.suppress(ConnectionClosed):
        await wire.send_raw(raw)
        await wire.send(Ping(rid=rid))
    try:
        await wire.find(Pong, where=lambda p: p.rid == rid)
    except AssertionError:  # closed before the pong
        closed = wire.closed
        assert closed is not None
        return wire.frames[before:], closed.rcvd.code if closed.rcvd else None
    return [f for f in wire.frames[before:] if not isinstance(f, Pong)], None


def size(raw: str | bytes) -> int:
    return len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)


def check(frames: list[ServerFrame], code: int | None, raw: str | bytes, what: Any) -> None:
    internal = [f for f in frames if isinstance(f, Error) and f.code == ErrorCode.INTERNAL]
    assert internal == [], (what, internal)
    if code is None:
        return
    # Closed: only for a frame too large, or a logout (this session's token revoked).
    if size(raw) > MAX_FRAME:
        assert code == CloseCode.TOO_BIG, (what, code)
    else:
        assert code in (CloseCode.NORMAL, CloseCode.REVOKED), (what, code, frames)


def test_every_frame_type_after_sign_in(target: Target) -> None:
    @FUZZ
    @given(frame=any_frame)
    def one(frame: dict[str, Any]) -> None:
        raw = encode_frame(frame)

        async def exchange() -> None:
            frames, code = await answered(await target.session(), raw)
            check(frames, code, raw, frame)
            target.count(frames)

        target.run(exchange())

    one()
    target.run(target.finish())
    assert target.answered.get(ErrorCode.BAD_FRAME, 0) > 50  # most of it was refused...
    assert len(target.answered) > 5  # ...but frames of many kinds got through too


def test_raw_garbage(target: Target) -> None:
    @FUZZ
    @given(
        raw=st.one_of(
            st.binary(max_size=3000),
            st.text(max_size=3000),
            st.binary(min_size=1, max_size=200).map(lambda b: b.decode("latin-1")),
            st.sampled_from(["{", "[]", "null", "1", '"x"', "{}", '{"type":null}', "\ufeff{}"]),
        )
    )
    def one(raw: str | bytes) -> None:
        async def exchange() -> None:
            frames, code = await answered(await target.session(), raw)
            check(frames, code, raw, raw)
            target.count(frames)

        target.run(exchange())

    one()
    target.run(target.finish())
    assert target.answered.get(ErrorCode.BAD_FRAME, 0) > 100


def test_every_first_frame(target: Target) -> None:
    @FUZZ
    @given(frame=st.one_of(first_frame, any_frame))
    def one(frame: dict[str, Any]) -> None:
        raw = encode_frame(frame)

        async def exchange() -> None:
            wire = await Wire.open(target.server.url)
            try:
                with contextlib.suppress(ConnectionClosed):
                    await wire.send_raw(raw)
                closed = await wire.wait_closed()
            finally:
                await wire.close()
            frames, code = wire.frames, closed.rcvd.code if closed.rcvd else None
            target.count(frames)
            assert not any(isinstance(f, Welcome) for f in frames), frame  # nobody gets in
            if size(raw) > MAX_FRAME:
                assert code == CloseCode.TOO_BIG, (frame, code)
                return
            assert len(frames) == 1 and isinstance(frames[0], Error), (frame, frames)
            assert frames[0].code != ErrorCode.INTERNAL, (frame, frames)
            assert code in (CloseCode.AUTH_FAILED, CloseCode.PROTOCOL), (frame, code)

        target.run(exchange())

    one()
    target.run(target.finish())
