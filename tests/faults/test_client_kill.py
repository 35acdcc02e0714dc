"""A client killed with a full outbox sends each message exactly once after it is
started again: the real ``tchat`` process is SIGKILLed twice while it flushes 300
queued messages, once exactly between the server's commit and the ack's arrival
(a proxy withholds the ack), once at a random point."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

from tchat_client.core import Client, ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.core.outbox import Outbox
from tests.client.proxy import Proxy
from tests.faults.clients import DEADLINE, PASSWORD
from tests.faults.process import REPO, ServerProcess, StartProcess, server_log

QUEUED = 300


def queue_offline(store: ProfileStore, count: int) -> list[str]:
    """What ``tchat send --queue`` does, ``count`` times: into the outbox, offline."""
    client = Client(store.get())
    client.load()
    cids = [client.send_to("#general", f"queued {n}") for n in range(count)]
    client.outbox.close()
    client.cache.close()
    return cids


async def spawn_flush(home: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCHAT_")}
    env["TCHAT_HOME"] = str(home)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tchat_client",
        "flush",
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


def in_outbox(store: ProfileStore, cid: str) -> str | None:
    """The outbox state of a message (None: not in the outbox)."""
    box = Outbox(store.get().outbox_path)
    try:
        entry = box.get(cid)
    finally:
        box.close()
    return entry.state if entry is not None else None


async def stored_count(server: ServerProcess) -> int:
    return int(server.read("SELECT count(*) FROM messages")[0][0])


async def until_stored(server: ServerProcess, at_least: int) -> int:
    """Poll the server's database (it signals nothing to the test) with a deadline."""
    async with asyncio.timeout(DEADLINE):
        while (count := await stored_count(server)) < at_least:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    return count


async def test_a_client_killed_with_a_full_outbox_sends_each_message_once(
    server_process: StartProcess, tmp_path: Path
) -> None:
    rng = random.Random(os.environ.get("FAULT_SEED"))
    server = await server_process(users=["alice"])
    proxy = await Proxy(server.port).start()
    home = tmp_path / "home"
    store = ProfileStore(home, home)
    await sign_in(store, proxy.url, "alice", PASSWORD)
    cids = queue_offline(store, QUEUED)
    general = int(server.read("SELECT id FROM rooms WHERE name = 'general'")[0][0])
    try:
        # First kill: the proxy withholds what the server sends after message 100
        # (the message itself, or the one after it when its ack came along).
        proxy.hold_after(f'"client_msg_id":"{cids[99]}"'.encode())
        flush = await spawn_flush(home)
        await proxy.wait_for(lambda: proxy.held_down > 0)
        flush.send_signal(signal.SIGKILL)
        assert await flush.wait() == -signal.SIGKILL
        first = await stored_count(server)
        assert first in (100, 101)
        # The last stored message is still in the outbox, written but never acked:
        # killed between the server's commit and the ack's arrival.
        assert in_outbox(store, cids[first - 1]) in ("queued", "sent")
        proxy.hold_after(None)

        # Second kill: at a random point of the rest.
        point = rng.randrange(120, 280)
        flush = await spawn_flush(home)
        at_kill = await until_stored(server, point)
        flush.send_signal(signal.SIGKILL)
        assert await flush.wait() == -signal.SIGKILL

        # Started again, it sends what is left, and nothing twice.
        flush = await spawn_flush(home)
        async with asyncio.timeout(DEADLINE):
            _, err = await flush.communicate()
        assert flush.returncode == 0, err.decode()
    finally:
        await proxy.stop()
    print(f"\n{QUEUED} queued; killed after {first} (ack withheld) and {at_kill} stored")

    log = server_log(server, general)
    assert [row[3] for row in log] == cids  # each once, in the order queued
    assert [row[2] for row in log] == [f"queued {n}" for n in range(QUEUED)]
    assert [row[0] for row in log] == list(range(1, QUEUED + 1))
    assert [in_outbox(store, cid) for cid in cids] == [None] * QUEUED
