"""``tchat-server backup``, ``restore`` and ``check`` on real data, beside a running
server that keeps writing."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path

from shared.frames import Ack, Send
from tchat_server.app import TchatServer
from tests.conftest import PASSWORD, Running
from tests.conftest import test_config as config_for
from tests.selfhost.conftest import Spawn, run_cli
from tests.wire import Wire, login

StartServer = Callable[..., Awaitable[Running]]
FAST = {"rate_per_second": 100_000.0, "rate_burst": 100_000}


def general_of(wire: Wire) -> int:
    assert wire.welcome is not None
    return next(r.id for r in wire.welcome.rooms if r.name == "general")


def stored(database: Path) -> dict[str, int]:
    """client_msg_id -> seq of every message in a database file."""
    with closing(sqlite3.connect(database)) as conn:
        return dict(conn.execute("SELECT client_msg_id, seq FROM messages").fetchall())


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def users(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM users ORDER BY name")]


class Writer:
    """Sends messages ten at a time, each batch after the last one's acks, until told
    to stop; ``acked`` maps client_msg_id -> seq as the acks arrive."""

    def __init__(self, wire: Wire, room: int) -> None:
        self.wire, self.room = wire, room
        self.acked: dict[str, int] = {}
        self.enough = asyncio.Event()
        self.stop = asyncio.Event()

    async def run(self, limit: int = 5000) -> None:
        n = 0
        while not self.stop.is_set() and n < limit:
            batch = [f"w{n + i}" for i in range(10)]
            n += 10
            for cid in batch:
                await self.wire.send(Send(client_msg_id=cid, body=f"body {cid}", room=self.room))
            for cid in batch:
                ack = await self.wire.find(Ack, where=lambda a, cid=cid: a.client_msg_id == cid)
                self.acked[cid] = ack.seq
            if len(self.acked) >= 50:
                self.enough.set()


async def test_backup_during_writes_restores_and_checks_clean(
    start_server: StartServer, data_dir: Path, tmp_path: Path
) -> None:
    srv = await start_server(**FAST)
    await srv.user("alice")
    alice = await srv.connect("alice")
    uploads = data_dir / "files" / "ab"
    uploads.mkdir(parents=True)
    (uploads / "abcdef.bin").write_bytes(b"\x00upload" * 100)

    writer = Writer(alice, general_of(alice))
    task = asyncio.get_running_loop().create_task(writer.run())
    await writer.enough.wait()
    before = dict(writer.acked)
    dest = tmp_path / "backups" / "nightly"
    code, out, err = await run_cli("--data-dir", str(data_dir), "backup", str(dest))
    after = len(writer.acked)
    writer.stop.set()
    await task
    assert code == 0, err
    assert after > len(before), "the server kept writing while the backup ran"

    manifest = json.loads((dest / "backup.json").read_text())
    assert manifest["files"] == 1 and manifest["schema_version"] >= 1
    assert len(before) <= manifest["messages"] <= after + 10  # + one batch in flight
    assert f"backed up {manifest['messages']} messages and 1 files" in out
    assert (dest / "files" / "ab" / "abcdef.bin").read_bytes() == b"\x00upload" * 100
    assert names(dest) == ["backup.json", "files", "tchat.db"]
    snapshot = stored(dest / "tchat.db")
    assert before.items() <= snapshot.items()  # every ack before the backup, same seq
    assert sorted(snapshot.values()) == list(range(1, len(snapshot) + 1))

    code, out, _ = await run_cli("check", str(dest))
    assert code == 0 and ": ok (1 users, 1 rooms," in out, out

    restored = tmp_path / "restored"
    code, out, err = await run_cli("--data-dir", str(restored), "restore", str(dest))
    assert code == 0, err
    code, out, _ = await run_cli("--data-dir", str(restored), "check")
    assert code == 0 and f"{len(snapshot)} messages, 1 files" in out, out
    assert (restored / "files" / "ab" / "abcdef.bin").exists()

    # A server on the restored data: the messages, the account, and a new epoch.
    assert alice.welcome is not None
    old_epoch = alice.welcome.epoch
    server = TchatServer(config_for(restored))
    await server.start()
    try:
        again = await login(f"ws://127.0.0.1:{server.port}", "alice", PASSWORD)
        assert again.welcome is not None and again.welcome.epoch != old_epoch
        room = next(r for r in again.welcome.rooms if r.name == "general")
        assert room.latest_seq == len(snapshot)
        await again.close()
    finally:
        await server.stop()
    assert stored(restored / "tchat.db") == snapshot


async def test_check_finds_damage(
    start_server: StartServer, data_dir: Path, tmp_path: Path
) -> None:
    srv = await start_server(**FAST)
    await srv.user("alice")
    alice = await srv.connect("alice")
    writer = Writer(alice, general_of(alice))
    await writer.run(limit=30)
    dest = tmp_path / "b"
    assert (await run_cli("--data-dir", str(data_dir), "backup", str(dest)))[0] == 0
    code, _, _ = await run_cli("check", str(dest))
    assert code == 0

    with closing(sqlite3.connect(dest / "tchat.db")) as conn:
        conn.execute("DELETE FROM messages WHERE seq = 7")
        conn.commit()
    code, out, _ = await run_cli("check", str(dest))
    assert code == 1
    assert "room 1: 29 messages with seqs 1..30, latest_seq 30" in out
    assert "differs from the SHA-256 in backup.json" in out

    broken = tmp_path / "broken.db"
    data = bytearray((dest / "tchat.db").read_bytes())
    data[4096 : 4096 * 3] = b"\xff" * (4096 * 2)  # wipe two pages
    broken.write_bytes(bytes(data))
    code, out, _ = await run_cli("check", str(broken))
    assert code == 1 and "problem:" in out


async def test_backup_refusals(data_dir: Path, tmp_path: Path) -> None:
    code, _, err = await run_cli("--data-dir", str(data_dir), "backup", str(tmp_path / "b"))
    assert code == 1 and "no database at" in err
    await run_cli(
        "--data-dir", str(data_dir), "user", "add", "alice", "--password-stdin", stdin=PASSWORD
    )
    full = tmp_path / "full"
    (full / "x").mkdir(parents=True)
    code, _, err = await run_cli("--data-dir", str(data_dir), "backup", str(full))
    assert code == 1 and "already exists" in err
    assert names(full) == ["x"]
    assert [name for name in names(tmp_path) if ".partial-" in name] == []


async def test_restore_waits_for_the_server_to_stop_and_keeps_what_it_replaces(
    data_dir: Path, tmp_path: Path, spawn: Spawn
) -> None:
    code, _, err = await run_cli(
        "--data-dir", str(data_dir), "user", "add", "alice", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, err
    dest = tmp_path / "b"
    assert (await run_cli("--data-dir", str(data_dir), "backup", str(dest)))[0] == 0

    code, _, _ = await run_cli(
        "--data-dir", str(data_dir), "user", "add", "bob", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0  # made after the backup: the restore takes it away

    server = await spawn(data_dir)
    code, _, err = await run_cli("--data-dir", str(data_dir), "restore", str(dest))
    assert code == 1 and "a tchat-server is running on" in err
    # A second server on the same data is refused too.
    code, _, err = await run_cli("--data-dir", str(data_dir), "serve", "--port", "0")
    assert code == 1 and "stop it first" in err
    server.proc.send_signal(signal.SIGTERM)
    assert await server.finish() == 0

    code, _, err = await run_cli("--data-dir", str(data_dir), "restore", str(dest))
    assert code == 1 and "--force" in err
    code, out, err = await run_cli("--data-dir", str(data_dir), "restore", str(dest), "--force")
    assert code == 0 and "new epoch" in out, err
    aside = [data_dir / name for name in names(data_dir) if name.startswith("replaced-")]
    assert len(aside) == 1 and names(aside[0]) == ["tchat.db"]
    assert users(aside[0] / "tchat.db") == ["alice", "bob"]
    assert users(data_dir / "tchat.db") == ["alice"]
    code, out, _ = await run_cli("--data-dir", str(data_dir), "user", "list")
    assert (code, out.split()) == (0, ["alice"])
    code, _, _ = await run_cli("--data-dir", str(data_dir), "check")
    assert code == 0
    # Nothing left behind that another user (the service's) could not open.
    assert [n for n in names(data_dir) if n.startswith("tchat.db-")] == []
