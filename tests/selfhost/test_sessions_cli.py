"""``tchat-server user sessions`` and ``user revoke``: the real command, run as a
process beside a live server on the same data directory (whose revocation sweep
runs every 0.2 s here)."""

from __future__ import annotations

import base64
from pathlib import Path

from shared.errors import CloseCode
from shared.frames import PROTOCOL_VERSION, Login, Welcome
from tchat_server.storage.users import hash_secret
from tests.conftest import PASSWORD, Running
from tests.selfhost.conftest import run_cli, server_env
from tests.server.util import round_trip
from tests.wire import Wire


async def sign_in(srv: Running, name: str, client: str) -> Wire:
    wire = await Wire.open(srv.url)
    srv.wires.append(wire)
    await wire.send(
        Login(protocol=PROTOCOL_VERSION, username=name, password=PASSWORD, client=client)
    )
    wire.welcome = await wire.expect(Welcome)
    return wire


def token_of(wire: Wire) -> str:
    assert wire.welcome is not None and wire.welcome.token is not None
    return wire.welcome.token


async def user_cli(data_dir: Path, *args: str) -> tuple[int, str, str]:
    return await run_cli("--data-dir", str(data_dir), "user", *args)


async def revoked_rows(srv: Running) -> list[tuple[str, bool]]:
    rows = await srv.services.db.fetch_all(
        "SELECT client, revoked_at IS NOT NULL FROM tokens ORDER BY client"
    )
    return [(r[0], bool(r[1])) for r in rows]


async def close_code(wire: Wire) -> int:
    closed = await wire.wait_closed()
    assert closed.rcvd is not None
    return closed.rcvd.code


async def test_sessions_lists_clients_and_times_never_secrets(srv: Running, data_dir: Path) -> None:
    await srv.user("alice")
    await srv.user("bob")
    laptop = await sign_in(srv, "alice", "tchat/laptop")
    phone = await sign_in(srv, "alice", "tchat/phone")
    evil = await sign_in(srv, "alice", "\x1b]0;owned\x07\x1b[31mred")
    await sign_in(srv, "bob", "tchat/bob-only")
    await srv.services.users.revoke_token(hash_secret(token_of(phone)))

    code, out, err = await user_cli(data_dir, "sessions", "Alice")  # any case finds her
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["client", "created", "(UTC)", "last", "used", "(UTC)", "state"]
    by_client = {line.split()[0]: line for line in lines[1:]}
    assert set(by_client) == {"tchat/laptop", "tchat/phone", "\\u001b]0;owned\\u0007\\u001b[31mred"}
    assert by_client["tchat/laptop"].endswith("active")
    assert "revoked 20" in by_client["tchat/phone"]  # with the date it was revoked
    assert "\x1b" not in out and "\x07" not in out  # the terminal is not driven
    assert "bob-only" not in out
    # Neither a token nor its hash, in any spelling, is printed.
    for wire in (laptop, phone, evil):
        token = token_of(wire)
        digest = hash_secret(token)
        for secret in (token, digest.hex(), base64.b64encode(digest).decode(), token[:12]):
            assert secret not in out

    code, out, err = await user_cli(data_dir, "sessions", "nobody")
    assert code == 1 and "no user named 'nobody'" in err


async def test_revoke_one_client_closes_its_live_session_only(srv: Running, data_dir: Path) -> None:
    await srv.user("alice")
    laptop = await sign_in(srv, "alice", "tchat/laptop")
    phone = await sign_in(srv, "alice", "tchat/phone")

    code, out, err = await user_cli(data_dir, "revoke", "alice", "--client", "tchat/phone")
    assert code == 0, err
    assert out.startswith("revoked 1 session(s) of alice")
    assert await close_code(phone) == CloseCode.REVOKED  # within the sweep interval
    await round_trip(laptop)  # the other session is untouched
    assert await revoked_rows(srv) == [("tchat/laptop", False), ("tchat/phone", True)]

    code, out, _ = await user_cli(data_dir, "sessions", "alice")
    states = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert states["tchat/laptop"].endswith("active") and "revoked" in states["tchat/phone"]


async def test_revoke_all_closes_every_session(srv: Running, data_dir: Path) -> None:
    await srv.user("alice")
    await srv.user("bob")
    wires = [await sign_in(srv, "alice", f"tchat/{n}") for n in range(3)]
    bob = await sign_in(srv, "bob", "tchat/bob")

    code, out, err = await user_cli(data_dir, "revoke", "alice", "--all")
    assert code == 0, err
    assert out.startswith("revoked 3 session(s) of alice")
    assert [await close_code(w) for w in wires] == [CloseCode.REVOKED] * 3
    await round_trip(bob)
    assert ("tchat/bob", False) in await revoked_rows(srv)


async def test_revoke_refusals_change_nothing(srv: Running, data_dir: Path) -> None:
    await srv.user("alice")
    laptop = await sign_in(srv, "alice", "tchat/laptop")
    before = await revoked_rows(srv)

    # Which sessions must be said: a bare `revoke` is a usage error.
    code, _, err = await user_cli(data_dir, "revoke", "alice")
    assert code == 2 and "--all" in err
    code, _, err = await user_cli(data_dir, "revoke", "alice", "--all", "--client", "x")
    assert code == 2
    # No session from that client: an error, nothing revoked.
    code, out, err = await user_cli(data_dir, "revoke", "alice", "--client", "tchat/phone")
    assert code == 1 and out == ""
    assert "no active session from client 'tchat/phone'" in err
    code, _, err = await user_cli(data_dir, "revoke", "nobody", "--all")
    assert code == 1 and "no user named 'nobody'" in err

    assert await revoked_rows(srv) == before == [("tchat/laptop", False)]
    await round_trip(laptop)


async def test_token_lifetimes_are_settings(tmp_path: Path) -> None:
    env = server_env(token_idle_days="7")
    code, out, err = await run_cli(
        "--data-dir", str(tmp_path), "config", "show", "--token-max-days", "365", env=env
    )
    assert code == 0, err
    assert "token_idle_days = 7  # env TCHAT_TOKEN_IDLE_DAYS" in out
    assert "token_max_days = 365  # flag --token-max-days" in out
    code, out, err = await run_cli(
        "--data-dir", str(tmp_path), "config", "show", env=server_env(token_idle_days="-1")
    )
    assert code == 2 and out == ""
    assert "token_idle_days: must be at least 0" in err
