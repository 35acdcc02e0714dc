"""Online backups taken while three clients write (``tchat-server backup``, beside
the running server process) restore and pass ``PRAGMA integrity_check``; each holds
every message acknowledged before it began, with the same seq, gap-free; and they
stay good when the server is killed right after them."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from pathlib import Path

from shared.frames import History, HistoryPage
from tests.conftest import PASSWORD
from tests.faults.clients import DEADLINE, Tracked, open_clients, sign_in_all
from tests.faults.process import REPO, ServerProcess, StartProcess, free_port
from tests.wire import login

BACKUPS = 3
WRITERS = 3
BETWEEN = 150
"""Acks between two backups (the writers never pause)."""


async def tchat_server(server: ServerProcess, data_dir: Path, *args: str) -> str:
    """Run an admin command of the real ``tchat-server``; its stdout."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tchat_server",
        "--data-dir",
        str(data_dir),
        *args,
        env=server.env(),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(DEADLINE):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


def backed_up(path: Path) -> tuple[list[str], dict[str, int]]:
    """A backup's integrity check, and its messages: client id -> seq."""
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        integrity = [str(row[0]) for row in db.execute("PRAGMA integrity_check")]
        rows = db.execute("SELECT client_msg_id, seq FROM messages ORDER BY seq").fetchall()
    return integrity, {str(cid): int(seq) for cid, seq in rows}


async def test_online_backups_during_writes_restore_and_check_clean(
    server_process: StartProcess, tmp_path: Path
) -> None:
    names = [f"writer{i}" for i in range(WRITERS)]
    server = await server_process(users=names)
    clients = await open_clients(await sign_in_all(server.url, names, tmp_path / "homes"))
    general = next(r.id for r in clients[0].client.state.rooms.values() if r.name == "general")
    stop = asyncio.Event()

    def acked() -> dict[str, int]:
        return {cid: seq for t in clients for cid, seq in t.acked.items()}

    async def write(t: Tracked) -> None:
        sent: list[str] = []
        while not stop.is_set() and len(sent) < 5000:
            await t.until(lambda: stop.is_set() or len(sent) - len(t.acked) < 20)
            if not stop.is_set():
                sent.append(t.client.send(general, f"{t.name} writes {len(sent)}"))

    writers = [asyncio.get_running_loop().create_task(write(t)) for t in clients]
    taken: list[tuple[Path, dict[str, int], int]] = []
    try:
        for n in range(BACKUPS):
            goal = len(acked()) + BETWEEN
            await clients[0].until(lambda goal=goal: len(acked()) >= goal)  # type: ignore[misc]
            before = acked()
            dest = tmp_path / f"backup{n}"
            await tchat_server(server, server.data_dir, "backup", str(dest))
            taken.append((dest, before, len(acked())))
        stop.set()
        for t in clients:
            t.changed.set()
        await asyncio.gather(*writers)
    finally:
        stop.set()
        for task in writers:
            task.cancel()
        for t in clients:
            await t.client.close()
    await server.kill()  # a crash right after: the backups do not depend on the server

    for dest, before, after in taken:
        integrity, stored = backed_up(dest / "tchat.db")
        assert integrity == ["ok"], dest
        assert before.items() <= stored.items(), dest  # every earlier ack, same seq
        assert sorted(stored.values()) == list(range(1, len(stored) + 1)), dest
        assert len(before) < after, "the clients kept writing while the backup ran"
    print(f"\n{BACKUPS} backups during writes: {[len(b) for _, b, _ in taken]} acked before each")

    # The newest backup, restored into a fresh data directory, serves its messages.
    dest, _, _ = taken[-1]
    _, stored = backed_up(dest / "tchat.db")
    restored = tmp_path / "restored"
    await tchat_server(server, restored, "restore", str(dest))
    assert ": ok (" in await tchat_server(server, restored, "check")
    again = ServerProcess(restored, free_port(), server.settings)
    await again.start()
    try:
        wire = await login(again.url, "writer0", PASSWORD)
        assert wire.welcome is not None
        room = next(r for r in wire.welcome.rooms if r.id == general)
        assert room.latest_seq == len(stored)
        await wire.send(History(room=general, before=len(stored) + 1, limit=1, rid="h"))
        page = await wire.find(HistoryPage)
        assert [m.client_msg_id for m in page.messages] == [
            cid for cid, seq in stored.items() if seq == len(stored)
        ]
        await wire.close()
    finally:
        assert await again.stop() == 0
