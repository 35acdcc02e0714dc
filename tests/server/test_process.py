"""The real ``tchat-server`` process: admin commands, serving, health, SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from shared.errors import CloseCode
from shared.frames import Ack, History, HistoryPage, Send, Welcome
from tests.conftest import PASSWORD
from tests.wire import Wire, hello, login, register

SERVER = [sys.executable, "-m", "tchat_server"]


async def run(data_dir: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """Run an admin command to completion: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        *SERVER,
        "--data-dir",
        str(data_dir),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


class Served:
    def __init__(self, proc: asyncio.subprocess.Process, url: str) -> None:
        self.proc = proc
        self.url = url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


Serve = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start ``tchat-server serve --port 0`` processes; kill leftovers at teardown."""
    procs: list[asyncio.subprocess.Process] = []

    async def start(data_dir: Path, *extra: str) -> Served:
        proc = await asyncio.create_subprocess_exec(
            *SERVER,
            "--data-dir",
            str(data_dir),
            "serve",
            "--port",
            "0",
            *extra,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        procs.append(proc)
        assert proc.stdout is not None
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, "the server exited before listening"
            found = re.search(r"listening on (ws://127\.0\.0\.1:\d+)", line)
            if found:
                return Served(proc, found.group(1))

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def http_get(port: int, path: str) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    response = (await asyncio.wait_for(reader.read(), 10)).decode()
    writer.close()
    await writer.wait_closed()
    status = int(response.split(" ", 2)[1])
    return status, response.split("\r\n\r\n", 1)[1]


async def test_admin_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    code, out, err = await run(data, "user", "add", "alice", "--password-stdin", stdin=PASSWORD)
    assert (code, out.strip()) == (0, "created user alice"), err
    code, out, _ = await run(
        data, "user", "add", "root", "--admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert (code, out.strip()) == (0, "created admin user root")
    code, out, err = await run(data, "user", "add", "ALICE", "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "taken" in err
    code, out, err = await run(data, "user", "add", "shorty", "--password-stdin", stdin="short")
    assert code == 1 and "password" in err
    code, out, _ = await run(data, "user", "list")
    assert (code, out.splitlines()) == (0, ["alice\t", "root\towner"])  # the first admin

    code, out, _ = await run(data, "invite", "create", "--uses", "2", "--expires", "1h")
    assert code == 0 and re.fullmatch(r"[\w-]{16}", out.strip())
    code, _, err = await run(data, "invite", "create", "--uses", "0")
    assert code == 1 and "--uses" in err
    code, _, err = await run(data, "invite", "create", "--expires", "soon")
    assert code == 1 and "duration" in err

    code, out, _ = await run(data, "user", "disable", "alice")
    assert code == 0 and "disabled alice" in out
    code, out, _ = await run(data, "user", "list")
    assert out.splitlines() == ["alice\tdisabled", "root\towner"]


async def test_serve_health_invites_and_sigterm(tmp_path: Path, serve: Serve) -> None:
    data = tmp_path / "data"
    assert (await run(data, "user", "add", "alice", "--password-stdin", stdin=PASSWORD))[0] == 0
    code, out, _ = await run(data, "invite", "create", "--uses", "2", "--expires", "1h")
    assert code == 0
    invite = out.strip()
    server = await serve(data)

    assert await http_get(server.port, "/healthz") == (200, "ok\n")
    assert await http_get(server.port, "/readyz") == (200, "ok\n")
    assert (await http_get(server.port, "/nope"))[0] == 404

    alice = await login(server.url, "alice", PASSWORD)
    assert alice.welcome is not None and alice.welcome.token is not None
    general = next(r.id for r in alice.welcome.rooms if r.name == "general")
    await alice.send(Send(client_msg_id="m1", body="before the signal", room=general))
    ack = await alice.find(Ack)
    # The invite from the CLI admits two registrations (default policy: invite).
    for name in ("bob", "carol"):
        wire = await register(server.url, name, PASSWORD, invite)
        assert (await wire.find(Welcome)).user.name == name
        await wire.close()
    third = await register(server.url, "dave", PASSWORD, invite)
    closed = await third.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.AUTH_FAILED

    server.proc.send_signal(signal.SIGTERM)
    closed = await alice.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.GOING_AWAY
    assert await asyncio.wait_for(server.proc.wait(), 30) == 0

    # A new process on the same data: the session and the message are still there.
    again = await serve(data)
    alice2: Wire = await hello(again.url, alice.welcome.token)
    assert alice2.welcome is not None and alice2.welcome.epoch == alice.welcome.epoch
    await alice2.send(History(room=general, rid="h"))
    page = await alice2.find(HistoryPage)
    assert [(m.seq, m.body) for m in page.messages] == [(ack.seq, "before the signal")]
    await alice2.close()
    again.proc.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(again.proc.wait(), 30) == 0
