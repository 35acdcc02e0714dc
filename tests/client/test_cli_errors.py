"""Each failure is one line on stderr and an exit code of its own."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from tests.client.conftest import Cli, Result
from tests.conftest import Running

Start = Callable[..., Awaitable[Running]]


def one_line(result: Result) -> str:
    assert result.err.count("\n") == 1 and result.err.startswith("tchat: "), result.err
    return result.err


async def test_bad_credentials_then_throttled(
    start_server: Start, cli: Callable[[str], Cli]
) -> None:
    srv = await start_server(login_attempts_per_account=1)
    await srv.user("alice")
    alice = cli("alice")
    args = ("login", "--server", srv.url, "--user", "alice", "--password-stdin")
    wrong = await alice.run(*args, stdin="not my password\n")
    assert wrong.code == 2 and "wrong user name or password" in one_line(wrong)
    throttled = await alice.run(*args, stdin="not my password\n")
    assert throttled.code == 5 and "retry in" in one_line(throttled)
    assert alice.profiles.list() == []


async def test_revoked_session_is_bad_credentials(srv: Running, cli: Callable[[str], Cli]) -> None:
    await srv.user("alice")
    alice = cli("alice")
    await alice.login(srv.url, "alice")
    await srv.services.accounts.disable("alice")
    result = await alice.run("rooms")
    assert result.code == 2 and "tchat login" in one_line(result)


async def test_unknown_rooms_and_users(srv: Running, cli: Callable[[str], Cli]) -> None:
    await srv.user("alice")
    alice = cli("alice")
    await alice.login(srv.url, "alice")
    for args in (
        ("send", "#nowhere", "hello?"),
        ("send", "@nobody", "hello?"),
        ("history", "nowhere"),
        ("tail", "@bob"),
    ):
        result = await alice.run(*args)
        assert result.code == 3, (args, result.err)
        one_line(result)
    assert json.loads((await alice.ok("outbox", "--json")).out) == []
    assert await srv.services.message_store.count() == 0


async def test_rate_limited(start_server: Start, cli: Callable[[str], Cli]) -> None:
    srv = await start_server(rate_per_second=0.01, rate_burst=1)
    await srv.user("alice")
    alice = cli("alice")
    await alice.login(srv.url, "alice")
    # Each connection may send one frame: the queued message takes it.
    await alice.ok("send", "--queue", "general", "first")
    status = await alice.run("status", "away")
    assert status.code == 5 and "retry in" in one_line(status)

    await alice.ok("send", "--queue", "general", "second")
    send = await alice.run("send", "--timeout", "1", "general", "third")
    assert send.code == 5 and "stays in the outbox" in one_line(send)
    waiting = json.loads((await alice.ok("outbox", "--json")).out)
    assert [e["body"] for e in waiting] == ["third"] and waiting[0]["error_code"] == "rate_limited"
    assert await srv.services.message_store.count() == 2


async def test_usage_and_not_logged_in(cli: Callable[[str], Cli]) -> None:
    nobody = cli("nobody")
    missing = await nobody.run("send")
    assert missing.code == 1 and "error:" in missing.err
    logged_out = await nobody.run("send", "--queue", "general", "hi")
    assert logged_out.code == 6 and "tchat login" in one_line(logged_out)
    help_text = await nobody.ok("--help")
    assert "exit codes:" in help_text.out and "rate limited" in help_text.out
