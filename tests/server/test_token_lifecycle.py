"""Session token lifetimes: ``last_used_at`` is kept (written at most hourly per
token, in batches), idle or too old tokens are refused with ``token_invalid`` and
revoked, and the revocation sweep closes live sessions of expired tokens.

Time moves by a clock put into the account service (``tokens.clock``) or by
backdating rows in SQLite; nothing sleeps.
"""

from __future__ import annotations

import time

from shared.errors import CloseCode, ErrorCode
from shared.frames import PROTOCOL_VERSION, Error, Hello
from tchat_server.services.tokens import DAY, WRITE_EVERY, TokenLifetimes
from tchat_server.storage.users import hash_secret
from tests.conftest import PASSWORD, Running
from tests.server.util import StartServer, round_trip
from tests.wire import Wire, hello


class Clock:
    """Wall-clock time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def lifetimes(srv: Running) -> TokenLifetimes:
    tokens: TokenLifetimes = srv.services.accounts.tokens
    return tokens


def with_clock(srv: Running) -> Clock:
    clock = Clock()
    lifetimes(srv).clock = clock
    return clock


async def issue(srv: Running, name: str) -> str:
    """A new token of ``name`` with no connection using it (an open session counts
    as use, which would keep it from going idle)."""
    signed_in = await srv.services.accounts.login(name, PASSWORD, "127.0.0.1", "test")
    assert signed_in.token is not None
    return str(signed_in.token)


def token_of(wire: Wire) -> str:
    assert wire.welcome is not None and wire.welcome.token is not None
    return wire.welcome.token


async def row(srv: Running, token: str) -> tuple[float, float, float | None]:
    """(created_at, last_used_at, revoked_at) of a token, as stored."""
    found = await srv.services.db.fetch_one(
        "SELECT created_at, last_used_at, revoked_at FROM tokens WHERE hash = ?",
        (hash_secret(token),),
    )
    assert found is not None
    return found[0], found[1], found[2]


async def backdate(srv: Running, token: str, column: str, days: float) -> None:
    async with srv.services.db.write() as conn:
        await conn.execute(
            f"UPDATE tokens SET {column} = {column} - ? WHERE hash = ?",
            (days * DAY, hash_secret(token)),
        )


async def refused(srv: Running, token: str) -> Error:
    wire = await Wire.open(srv.url)
    srv.wires.append(wire)
    await wire.send(Hello(protocol=PROTOCOL_VERSION, token=token))
    return await wire.find(Error)


async def welcomed(srv: Running, token: str) -> Wire:
    wire = await hello(srv.url, token)
    srv.wires.append(wire)
    return wire


# ----------------------------------------------------------------- last used


async def test_a_hello_moves_last_used_at_at_most_once_an_hour(srv: Running) -> None:
    await srv.user("alice")
    token = token_of(await srv.connect("alice"))
    clock = with_clock(srv)
    tokens = lifetimes(srv)
    created, last_used, _ = await row(srv, token)
    assert created == last_used  # a new token was "used" when it was made

    clock.offset = 10 * DAY
    await welcomed(srv, token)
    await tokens.flush()
    _, moved, revoked = await row(srv, token)
    assert revoked is None
    assert moved >= created + 10 * DAY - 1  # the use, as the clock says
    writes = tokens.writes

    # Within the hour: accepted, and nothing written (a reconnect storm writes nothing).
    clock.offset += WRITE_EVERY / 2
    await welcomed(srv, token)
    await welcomed(srv, token)
    await tokens.flush()
    assert (await row(srv, token))[1] == moved
    assert tokens.writes == writes

    # An hour on, the next use is written again.
    clock.offset += WRITE_EVERY
    await welcomed(srv, token)
    await tokens.flush()
    assert (await row(srv, token))[1] > moved + WRITE_EVERY
    assert tokens.writes == writes + 1


async def test_uses_of_many_tokens_are_written_in_one_statement(
    start_server: StartServer,
) -> None:
    srv = await start_server(token_idle_days=0)  # no hourly expiry sweep writing meanwhile
    names = ["alice", "bob", "carol"]
    for name in names:
        await srv.user(name)
    tokens_of = [token_of(await srv.connect(name)) for name in names]
    clock = with_clock(srv)
    tokens = lifetimes(srv)
    tokens.write_delay = 3600  # only the flush below writes
    before = [(await row(srv, t))[1] for t in tokens_of]

    clock.offset = 2 * DAY
    for token in tokens_of:
        await welcomed(srv, token)
    writes = tokens.writes
    await tokens.flush()
    assert tokens.writes == writes + 1
    after = [(await row(srv, t))[1] for t in tokens_of]
    assert all(a >= b + 2 * DAY - 1 for a, b in zip(after, before, strict=True))


async def test_the_write_happens_by_itself_a_moment_later(start_server: StartServer) -> None:
    srv = await start_server(token_idle_days=0)  # no hourly expiry sweep writing meanwhile
    await srv.user("alice")
    token = await issue(srv, "alice")
    clock = with_clock(srv)
    tokens = lifetimes(srv)
    clock.offset = 3 * DAY
    await welcomed(srv, token)
    scheduled = tokens.scheduled
    if scheduled is not None:  # else it has run already
        await scheduled
    assert (await row(srv, token))[1] >= time.time() + 3 * DAY - 60


async def test_live_sessions_count_as_use(srv: Running) -> None:
    """A session kept open for months must not find its token idle on reconnect:
    the revocation sweep reports live tokens, which are written hourly too."""
    await srv.user("alice")
    token = token_of(await srv.connect("alice"))
    clock = with_clock(srv)
    tokens = lifetimes(srv)
    clock.offset = 50 * DAY
    tokens.seen_live([hash_secret(token)])
    await tokens.flush()
    assert (await row(srv, token))[1] >= time.time() + 50 * DAY - 60
    writes = tokens.writes
    tokens.seen_live([hash_secret(token)])  # again within the hour: nothing to write
    await tokens.flush()
    assert tokens.writes == writes


# -------------------------------------------------------------------- expiry


async def test_a_token_idle_past_the_limit_is_refused_and_revoked(srv: Running) -> None:
    await srv.user("alice")
    await srv.user("bob")
    old = await issue(srv, "alice")
    bob = token_of(await srv.connect("bob"))
    clock = with_clock(srv)

    clock.offset = 89 * DAY  # within the limit (default 90 days): fine
    await welcomed(srv, bob)
    clock.offset = 91 * DAY  # alice's token was last used 91 days "ago"
    error = await refused(srv, old)
    assert error.code == ErrorCode.TOKEN_INVALID  # the same answer as an unknown token
    assert (await row(srv, old))[2] is not None  # revoked
    clock.offset = 0  # revoked for good, whatever the time
    assert (await refused(srv, old)).code == ErrorCode.TOKEN_INVALID
    # Bob's token, used at 89 days, is fine; alice's password still works.
    await welcomed(srv, bob)
    assert (await srv.connect("alice")).welcome is not None


async def test_an_unknown_and_an_expired_token_get_the_same_answer(srv: Running) -> None:
    await srv.user("alice")
    token = await issue(srv, "alice")
    with_clock(srv).offset = 100 * DAY
    expired = await refused(srv, token)
    unknown = await refused(srv, "x" * 43)
    assert (expired.code, expired.message) == (unknown.code, unknown.message)


async def test_idle_expiry_reads_the_stored_time_after_a_restart(
    start_server: StartServer,
) -> None:
    first = await start_server()
    await first.user("alice")
    await first.user("bob")
    alice, bob = token_of(await first.connect("alice")), token_of(await first.connect("bob"))
    await first.stop()
    second = await start_server(token_idle_days=30)
    await backdate(second, alice, "last_used_at", 31)
    await backdate(second, bob, "last_used_at", 29)
    assert (await refused(second, alice)).code == ErrorCode.TOKEN_INVALID
    assert (await row(second, alice))[2] is not None
    await welcomed(second, bob)
    assert (await row(second, bob))[2] is None


async def test_zero_means_tokens_never_idle_out(start_server: StartServer) -> None:
    srv = await start_server(token_idle_days=0)
    await srv.user("alice")
    token = token_of(await srv.connect("alice"))
    await backdate(srv, token, "last_used_at", 3650)
    await backdate(srv, token, "created_at", 3650)
    await welcomed(srv, token)
    assert (await row(srv, token))[2] is None


async def test_a_token_older_than_the_maximum_is_refused(start_server: StartServer) -> None:
    srv = await start_server(token_max_days=30)
    await srv.user("alice")
    old = token_of(await srv.connect("alice"))
    young = token_of(await srv.connect("alice"))
    await backdate(srv, old, "created_at", 31)  # used a minute ago, but too old
    await backdate(srv, young, "created_at", 29)
    assert (await refused(srv, old)).code == ErrorCode.TOKEN_INVALID
    assert (await row(srv, old))[2] is not None
    await welcomed(srv, young)
    assert (await row(srv, young))[2] is None


async def test_the_sweep_closes_a_live_session_whose_token_grew_too_old(
    start_server: StartServer,
) -> None:
    srv = await start_server(token_max_days=30)
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    bob = await srv.connect("bob")
    await backdate(srv, token_of(alice), "created_at", 31)
    # The expiry sweep runs hourly: move the clock past the next one.
    with_clock(srv).offset = 2 * WRITE_EVERY
    closed = await alice.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.REVOKED
    assert (await row(srv, token_of(alice)))[2] is not None
    await round_trip(bob)  # bob's young token is untouched
    assert (await row(srv, token_of(bob)))[2] is None


async def test_a_full_disk_neither_blocks_a_hello_nor_loses_the_use(srv: Running) -> None:
    """The use is written off the hello path: when the write fails (here the
    database is read-only), the hello was answered anyway and the use stays queued."""
    await srv.user("alice")
    token = token_of(await srv.connect("alice"))
    clock = with_clock(srv)
    tokens = lifetimes(srv)
    before = (await row(srv, token))[1]
    db = srv.services.db
    await db._writer.execute("PRAGMA query_only = 1")  # as tests/faults/test_disk_full.py
    try:
        clock.offset = 5 * DAY
        await welcomed(srv, token)  # let in, though nothing can be written
        writes = tokens.writes
        await tokens.flush()
        assert tokens.writes == writes and db.write_error is not None
        assert (await row(srv, token))[1] == before
    finally:
        await db._writer.execute("PRAGMA query_only = 0")
    await tokens.flush()  # the queued use is written once writes work again
    assert tokens.writes == writes + 1
    assert (await row(srv, token))[1] >= before + 5 * DAY - 60


async def test_expired_tokens_nobody_presents_are_revoked_hourly(
    start_server: StartServer,
) -> None:
    srv = await start_server(token_idle_days=30)
    await srv.user("alice")
    idle = await issue(srv, "alice")
    fresh = await issue(srv, "alice")
    await backdate(srv, idle, "last_used_at", 31)
    clock = with_clock(srv)
    tokens = lifetimes(srv)
    clock.offset = 2 * WRITE_EVERY  # past the sweep the server ran when it started
    assert await tokens.expire_due() == 1
    assert (await row(srv, idle))[2] is not None
    assert (await row(srv, fresh))[2] is None
    await backdate(srv, fresh, "last_used_at", 31)
    assert await tokens.expire_due() == 0  # not again within the hour
    assert (await row(srv, fresh))[2] is None
