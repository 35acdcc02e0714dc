"""Guessing passwords: logins are throttled per account and per address before any
hash is computed; a 1 MB password is refused at once; an unknown user costs what a
wrong password does, with the real argon2 parameters."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator

import pytest

from shared.errors import CloseCode, ErrorCode
from shared.frames import PROTOCOL_VERSION, Error, Login, Welcome
from tchat_server.config import Argon2Params
from tchat_server.services import passwords
from tests.conftest import PASSWORD, Running
from tests.server.util import StartServer
from tests.wire import Wire


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the argon2 verifications the server runs (each one still runs)."""
    count = [0]
    real = passwords.Hasher._verify

    def counted(self: passwords.Hasher, password_hash: str, password: str) -> tuple[bool, bool]:
        count[0] += 1
        return real(self, password_hash, password)

    monkeypatch.setattr(passwords.Hasher, "_verify", counted)
    yield count


async def attempt(srv: Running, name: str, password: str) -> tuple[Error | Welcome, float]:
    """One login on its own connection: the answer and how long it took."""
    wire = await Wire.open(srv.url)
    srv.wires.append(wire)
    started = time.perf_counter()
    await wire.send(Login(protocol=PROTOCOL_VERSION, username=name, password=password))
    answer = await wire.find(Error | Welcome)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    await wire.close()
    return answer, elapsed


def code(answer: Error | Welcome) -> str:
    return answer.code if isinstance(answer, Error) else "welcome"


async def test_the_account_throttle_spends_no_hash(srv: Running, hashes: list[int]) -> None:
    await srv.user("alice")
    for _ in range(5):
        assert code((await attempt(srv, "alice", "wrong guess"))[0]) == ErrorCode.AUTH_FAILED
    assert hashes[0] == 5
    for guess in ["wrong again", PASSWORD, "and again"]:
        answer, _ = await attempt(srv, "alice", guess)
        assert isinstance(answer, Error) and answer.code == ErrorCode.THROTTLED
        assert answer.retry_after is not None and answer.retry_after > 0
    assert hashes[0] == 5  # decided before any hash, even for the right password


async def test_the_address_throttle_spends_no_hash(srv: Running, hashes: list[int]) -> None:
    """Twenty accounts guessed from one address: the twenty-first is not even hashed."""
    await srv.user("alice")
    for n in range(20):
        answer, _ = await attempt(srv, f"nobody{n}", "some guess")
        assert code(answer) == ErrorCode.AUTH_FAILED  # unknown users cost a hash too
    assert hashes[0] == 20
    for name in ["nobody20", "alice"]:
        assert code((await attempt(srv, name, PASSWORD))[0]) == ErrorCode.THROTTLED
    assert hashes[0] == 20


async def test_huge_passwords_are_refused_at_once_without_a_hash(
    srv: Running, hashes: list[int]
) -> None:
    await srv.user("alice")
    # 1 MB: larger than any frame; the WebSocket layer closes with 1009 on reading it.
    wire = await Wire.open(srv.url)
    srv.wires.append(wire)
    started = time.perf_counter()
    frame = {"type": "login", "protocol": 1, "username": "alice", "password": "p" * 1_000_000}
    await wire.send_raw(json.dumps(frame))
    closed = await wire.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.TOO_BIG
    assert time.perf_counter() - started < 0.5
    # Under the frame limit but over 1,024 characters: refused by the frame's type.
    for size in (1025, 60_000):
        answer, elapsed = await attempt(srv, "alice", "p" * size)
        assert code(answer) == ErrorCode.BAD_FRAME and elapsed < 0.5, size
    assert hashes[0] == 0
    # At the limit it is an ordinary (wrong) password.
    assert code((await attempt(srv, "alice", "p" * 1024))[0]) == ErrorCode.AUTH_FAILED
    assert hashes[0] == 1


async def test_an_unknown_user_takes_as_long_as_a_wrong_password(
    start_server: StartServer,
) -> None:
    srv = await start_server(
        argon2=Argon2Params(),  # the real cost: ~0.2 s a verify
        login_attempts_per_account=1000,
        login_attempts_per_address=1000,
    )
    await srv.user("alice")
    await attempt(srv, "nobody", "warm up")  # the server makes its dummy hash once
    unknown: list[float] = []
    wrong: list[float] = []
    for n in range(7):
        answer, elapsed = await attempt(srv, f"nobody{n}", "a wrong password")
        assert code(answer) == ErrorCode.AUTH_FAILED
        unknown.append(elapsed)
        answer, elapsed = await attempt(srv, "alice", "a wrong password")
        assert code(answer) == ErrorCode.AUTH_FAILED
        wrong.append(elapsed)
    a, b = statistics.median(unknown), statistics.median(wrong)
    print(f"\nmedian login: unknown user {a * 1000:.0f} ms, wrong password {b * 1000:.0f} ms")
    assert min(a, b) > 0.03, "a real hash was computed in both cases"
    assert abs(a - b) < 0.25 * max(a, b), (unknown, wrong)
