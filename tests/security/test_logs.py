"""What the real server process writes to its log, at the most verbose level, in
both formats: no password, token, invite code or message body in any line, however
they reached it (frames, headers, refusals), and no traceback flood from oversized
frames."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from shared.errors import CloseCode, ErrorCode
from shared.frames import (
    PROTOCOL_VERSION,
    Ack,
    Error,
    Login,
    Logout,
    Ok,
    Register,
    Send,
    Welcome,
)
from tests.faults.process import REPO, ServerProcess, StartProcess
from tests.server.util import room_id, round_trip
from tests.wire import Wire, hello, login

PASSWORD = "correct horse battery"
WRONG = "Tr0ub4dor&3-wrong"
NEWCOMER_PASSWORD = "newcomer passphrase 5521"
BODY = "the launch code is 7f3a-91c2"
BAD_BODY = "a body in a broken frame 9c1e"
NUL_BODY = "a body with a NUL\x00 inside 44b0"
BIG_BODY = "an oversized body 2d8f " + "z" * 70_000
BOGUS_TOKENS = ["made-up-token-31415", "bogus-header-token-27182"]
FLOOD = 30


async def invite_code(server: ServerProcess) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tchat_server",
        "--data-dir",
        str(server.data_dir),
        "invite",
        "create",
        env=server.env(),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    return out.decode().strip()


async def first_frame_refused(url: str, raw: str, **kwargs: object) -> Error:
    wire = await Wire.open(url, **kwargs)
    await wire.send_raw(raw)
    error = await wire.find(Error)
    await wire.wait_closed()
    await wire.close()
    return error


async def everything_secret(server: ServerProcess) -> list[str]:
    """Log in, register, post, refuse: every way a secret reaches the server."""
    invite = await invite_code(server)
    secrets = [PASSWORD, WRONG, NEWCOMER_PASSWORD, BODY, BAD_BODY, invite, *BOGUS_TOKENS]
    newcomer = await Wire.open(server.url)
    await newcomer.send(
        Register(
            protocol=PROTOCOL_VERSION,
            username="newcomer",
            password=NEWCOMER_PASSWORD,
            invite=invite,
        )
    )
    welcome = await newcomer.find(Welcome)
    assert welcome.token is not None
    secrets.append(welcome.token)
    await newcomer.close()

    wrong = Login(protocol=PROTOCOL_VERSION, username="alice", password=WRONG)
    error = await first_frame_refused(server.url, json.dumps({**_fields(wrong), "type": "login"}))
    assert error.code == ErrorCode.AUTH_FAILED
    alice = await login(server.url, "alice", PASSWORD)
    assert alice.welcome is not None and alice.welcome.token is not None
    token = alice.welcome.token
    secrets.append(token)
    resumed = await hello(server.url, token)
    by_header = await Wire.open(server.url, additional_headers={"Authorization": f"Bearer {token}"})
    await by_header.send_raw(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
    await round_trip(by_header)
    with pytest.raises(InvalidStatus):
        await Wire.open(
            server.url, additional_headers={"Authorization": f"Bearer {BOGUS_TOKENS[1]}"}
        )
    error = await first_frame_refused(
        server.url, json.dumps({"type": "hello", "protocol": 1, "token": BOGUS_TOKENS[0]})
    )
    assert error.code == ErrorCode.TOKEN_INVALID

    general = room_id(alice)
    await alice.send(Send(client_msg_id="secret-1", body=BODY, room=general))
    await alice.find(Ack)
    await alice.send_raw(json.dumps({"type": "send", "client_msg_id": "b", "body": BAD_BODY}))
    await alice.send_raw(
        json.dumps({"type": "send", "client_msg_id": "n", "body": NUL_BODY, "room": general})
    )
    await round_trip(alice)
    assert [e.code for e in alice.seen(Error)] == [ErrorCode.BAD_FRAME] * 2
    await resumed.send(Logout(rid="bye"))
    await resumed.find(Ok)
    await alice.send_raw(json.dumps({"type": "send", "client_msg_id": "big", "body": BIG_BODY}))
    closed = await alice.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.TOO_BIG
    for wire in (alice, resumed, by_header):
        await wire.close()
    return [*secrets, NUL_BODY.replace("\x00", ""), "2d8f " + "z" * 20]


def _fields(frame: Login) -> dict[str, object]:
    return {"protocol": frame.protocol, "username": frame.username, "password": frame.password}


async def oversized_flood(server: ServerProcess) -> None:
    """Oversized frames from many sockets, before and after signing in."""

    async def one(n: int) -> int | None:
        if n % 2:
            wire = await login(server.url, "bob", PASSWORD)
        else:
            wire = await Wire.open(server.url)
        await wire.send_raw("x" * 70_000)
        closed = await wire.wait_closed()
        await wire.close()
        return closed.rcvd.code if closed.rcvd else None

    codes = await asyncio.gather(*(one(n) for n in range(FLOOD)))
    assert codes == [CloseCode.TOO_BIG] * FLOOD


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_no_secret_in_any_log_line_and_no_traceback_flood(
    server_process: StartProcess, log_format: str
) -> None:
    server = await server_process(
        users=["alice", "bob"],
        registration="invite",
        log_level="debug",
        log_format=log_format,
        max_connections_per_user=FLOOD,
    )
    secrets = await everything_secret(server)
    await oversized_flood(server)
    assert await server.stop() == 0

    log = server.log()
    assert "alice connected" in log or '"event": "connected"' in log  # it did log, verbosely
    leaked = [secret for secret in secrets if secret in log]
    assert leaked == [], leaked
    assert "Traceback" not in log
    # At most a "connected" and a "disconnected" per socket of the flood.
    flood = [line for line in _lines(server.log_path) if "bob" in line]
    assert len(flood) <= FLOOD, "\n".join(flood)
    assert len(_lines(server.log_path)) < 60 + FLOOD, "\n".join(_lines(server.log_path))
    if log_format == "json":
        assert all(json.loads(line) for line in _lines(server.log_path) if line[:1] == "{")


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
