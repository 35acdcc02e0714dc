"""Accounts over the wire: registration policies, login throttling, look-alike and
invisible-character user names."""

from __future__ import annotations

import asyncio

import pytest

from shared.errors import CloseCode, ErrorCode
from shared.frames import PROTOCOL_VERSION, Ack, Error, Login, MessagePosted, Send, Welcome
from tests.conftest import PASSWORD, Running
from tests.server.util import StartServer
from tests.wire import Wire, login, register


async def refused(wire: Wire) -> tuple[str, int]:
    """The error code of a refused first frame and the close code that followed."""
    error = await wire.find(Error)
    closed = await wire.wait_closed()
    assert closed.rcvd is not None
    return error.code, closed.rcvd.code


async def try_register(srv: Running, name: str, invite: str | None = None) -> Wire:
    wire = await register(srv.url, name, PASSWORD, invite)
    srv.wires.append(wire)
    return wire


async def try_login(srv: Running, name: str, password: str) -> Wire:
    wire = await Wire.open(srv.url)
    srv.wires.append(wire)
    await wire.send(Login(protocol=PROTOCOL_VERSION, username=name, password=password))
    return wire


async def test_open_registration(srv: Running) -> None:
    wire = await try_register(srv, "newcomer")
    welcome = await wire.find(Welcome)
    assert welcome.user.name == "newcomer" and welcome.token
    assert [room.name for room in welcome.rooms] == ["general"]
    assert await srv.services.users.get_by_name("newcomer") is not None
    # The new account logs in with its password.
    wire = await try_login(srv, "newcomer", PASSWORD)
    assert (await wire.find(Welcome)).user.name == "newcomer"


async def test_invite_registration(start_server: StartServer) -> None:
    srv = await start_server(registration="invite")
    code = await srv.services.accounts.create_invite(uses=1)

    assert await refused(await try_register(srv, "nocode")) == (
        ErrorCode.INVITE_INVALID,
        CloseCode.AUTH_FAILED,
    )
    assert (await refused(await try_register(srv, "badcode", "not-a-code")))[0] == (
        ErrorCode.INVITE_INVALID
    )
    welcome = await (await try_register(srv, "invited", code)).find(Welcome)
    assert welcome.user.name == "invited"
    assert (await refused(await try_register(srv, "second", code)))[0] == ErrorCode.INVITE_INVALID
    expired = await srv.services.accounts.create_invite(uses=5, expires_in=-1)
    assert (await refused(await try_register(srv, "late", expired)))[0] == ErrorCode.INVITE_INVALID
    names = [user.name for user in await srv.services.users.list_all()]
    assert names == ["invited"]


async def test_an_invite_with_two_uses_admits_two_even_at_once(start_server: StartServer) -> None:
    srv = await start_server(registration="invite")
    code = await srv.services.accounts.create_invite(uses=2)
    wires = [await try_register(srv, f"racer{n}", code) for n in range(4)]

    async def outcome(wire: Wire) -> str:
        first = await wire.find(object)
        return first.code if isinstance(first, Error) else type(first).__name__.lower()

    outcomes = await asyncio.gather(*(outcome(w) for w in wires))
    assert sorted(outcomes) == [ErrorCode.INVITE_INVALID] * 2 + ["welcome"] * 2
    assert len(await srv.services.users.list_all()) == 2


async def test_closed_registration(start_server: StartServer) -> None:
    srv = await start_server(registration="closed")
    assert await refused(await try_register(srv, "anyone")) == (
        ErrorCode.REGISTRATION_CLOSED,
        CloseCode.AUTH_FAILED,
    )
    assert await srv.services.users.count() == 0


async def test_login_is_throttled_after_five_wrong_passwords(srv: Running) -> None:
    await srv.user("alice")
    for _ in range(5):
        wire = await try_login(srv, "alice", "not the password")
        assert await refused(wire) == (ErrorCode.AUTH_FAILED, CloseCode.AUTH_FAILED)
    wire = await try_login(srv, "alice", PASSWORD)
    error = await wire.find(Error)
    assert error.code == ErrorCode.THROTTLED
    assert error.retry_after is not None and 0 < error.retry_after <= 60
    assert wire.seen(Welcome) == []
    # Throttling is per account: bob is not affected.
    await srv.user("bob")
    assert (await srv.connect("bob")).welcome is not None


async def test_concurrent_wrong_passwords_are_throttled_too(srv: Running) -> None:
    """Attempts in flight count: ten guesses at once do not all get hashed."""
    await srv.user("alice")
    wires = [await Wire.open(srv.url) for _ in range(10)]
    srv.wires.extend(wires)
    login = Login(protocol=PROTOCOL_VERSION, username="alice", password="guess")
    await asyncio.gather(*(wire.send(login) for wire in wires))
    codes = [(await wire.find(Error)).code for wire in wires]
    assert codes.count(ErrorCode.AUTH_FAILED) == 5
    assert codes.count(ErrorCode.THROTTLED) == 5


async def test_a_successful_login_clears_the_account_throttle(srv: Running) -> None:
    await srv.user("alice")
    for _ in range(4):
        await refused(await try_login(srv, "alice", "wrong"))
    assert (await (await try_login(srv, "alice", PASSWORD)).find(Welcome)).user.name == "alice"
    for _ in range(4):
        assert (await refused(await try_login(srv, "alice", "wrong")))[0] == ErrorCode.AUTH_FAILED
    assert (await (await try_login(srv, "alice", PASSWORD)).find(Welcome)).user.name == "alice"


async def test_a_disabled_account_cannot_log_in(srv: Running) -> None:
    await srv.user("alice")
    await srv.services.accounts.disable("alice")
    code, close = await refused(await try_login(srv, "alice", PASSWORD))
    assert (code, close) == (ErrorCode.ACCOUNT_DISABLED, CloseCode.AUTH_FAILED)


@pytest.mark.parametrize(
    "name",
    [
        "\u0430lice",  # Cyrillic a
        "ALICE",
        "Alice",
        "a1ice",
        "al1ce",
        "alíce",  # i with an acute accent
        "\uff41lice",  # fullwidth a (NFKC folds it)
        "alic\u0435",  # Cyrillic e
    ],
)
async def test_look_alike_names_are_taken(srv: Running, name: str) -> None:
    await srv.user("alice")
    code, close = await refused(await try_register(srv, name))
    assert (code, close) == (ErrorCode.USERNAME_TAKEN, CloseCode.AUTH_FAILED)
    assert [user.name for user in await srv.services.users.list_all()] == ["alice"]


@pytest.mark.parametrize(
    "name",
    [
        "ali\u200bce",  # zero-width space
        "ali\u200dce",  # zero-width joiner
        "\u202eecila",  # right-to-left override
        "alice\u2066",  # left-to-right isolate
        "ali\u00adce",  # soft hyphen
        "al ice",
        "a",
        "-alice",
        "x" * 33,
    ],
)
async def test_invisible_and_malformed_names_are_invalid(srv: Running, name: str) -> None:
    code, close = await refused(await try_register(srv, name))
    assert (code, close) == (ErrorCode.USERNAME_INVALID, CloseCode.AUTH_FAILED)
    assert await srv.services.users.count() == 0


async def test_short_passwords_are_refused(srv: Running) -> None:
    wire = await register(srv.url, "carol", "short")
    srv.wires.append(wire)
    assert (await refused(wire))[0] == ErrorCode.PASSWORD_INVALID


async def test_the_throttle_sees_through_other_spellings_of_the_name(srv: Running) -> None:
    """NFKC folds fullwidth letters into the same account: they share its throttle."""
    await srv.user("alice")
    for spelling in ["alice", "\uff41lice", "a\uff4cice", "al\uff49ce", "ali\uff43e"]:
        assert (await refused(await try_login(srv, spelling, "wrong")))[0] == (
            ErrorCode.AUTH_FAILED
        )
    wire = await try_login(srv, "alic\uff45", PASSWORD)
    assert (await wire.find(Error)).code == ErrorCode.THROTTLED


async def test_names_are_found_whatever_their_case(srv: Running) -> None:
    """Log in as "Alice", DM "@BOB", mention "@Bob": each finds the one account."""
    await srv.user("alice")
    await srv.user("Bob")
    alice = await login(srv.url, "ALICE", PASSWORD)
    assert alice.welcome is not None and alice.welcome.user.name == "alice"
    bob = await srv.connect("bob")
    await alice.send(Send(client_msg_id="c1", body="hi @bob", dm="BOB", rid="r1"))
    posted = await bob.expect(MessagePosted)
    assert posted.message.author == "alice"
    general = next(r.id for r in alice.welcome.rooms if r.name == "general")
    await alice.send(Send(client_msg_id="c2", body="ping @BOB", room=general, rid="r2"))
    await alice.expect(Ack, lambda f: f.rid == "r2")
    await bob.close()
    again = await srv.connect("bob")
    assert again.welcome is not None
    room = next(r for r in again.welcome.rooms if r.id == general)
    assert room.mentions == 1
    await alice.close()


async def test_registrations_are_throttled_per_address(start_server: StartServer) -> None:
    """An open server cannot be made to hash passwords without limit."""
    srv = await start_server(login_attempts_per_address=3)
    codes = []
    for index in range(4):
        wire = await register(srv.url, f"user{index}", PASSWORD)
        frame = await wire.expect(Welcome | Error)  # type: ignore[arg-type]
        codes.append("ok" if isinstance(frame, Welcome) else frame.code)
        await wire.close()
    assert codes == ["ok", "ok", "ok", ErrorCode.THROTTLED]
    assert await srv.services.users.count() == 3
