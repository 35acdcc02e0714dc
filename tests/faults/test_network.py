"""A hostile network between every client and the server (``chaos.ChaosProxy``):
connections cut in the middle of frames, bytes split and delayed, directions
stalled. No message is lost, none is stored twice, no client is left stuck: all
of them finish, under the same chaos, within the deadline.

The proxy's seed is printed, and ``FAULT_SEED`` replays it.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

from tests.faults.chaos import ChaosProxy
from tests.faults.clients import (
    Tracked,
    cached_messages,
    describe,
    open_clients,
    sign_in_all,
)
from tests.faults.process import StartProcess, Stopwatch, server_log

CLIENTS = 5
PER_CLIENT = 100
TOTAL = CLIENTS * PER_CLIENT
TYPED_AHEAD = 10
BUDGET = 60.0


async def test_cuts_delays_and_stalls_lose_nothing_and_strand_no_one(
    server_process: StartProcess, tmp_path: Path
) -> None:
    seed = int(os.environ.get("FAULT_SEED") or random.randrange(2**32))
    names = [f"peer{i}" for i in range(CLIENTS)]
    server = await server_process(users=names, resume_cap=TOTAL)
    chaos = await ChaosProxy(server.port, seed).start()
    chaos.enabled = False  # signing in is not what this test is about
    profiles = await sign_in_all(chaos.url, names, tmp_path / "homes")
    clients = await open_clients(profiles)
    general = next(r.id for r in clients[0].client.state.rooms.values() if r.name == "general")
    sent: dict[str, list[str]] = {t.name: [] for t in clients}

    async def produce(t: Tracked) -> None:
        mine = sent[t.name]
        for n in range(PER_CLIENT):
            await t.until(lambda: len(mine) - len(t.acked) < TYPED_AHEAD, timeout=BUDGET)
            mine.append(t.client.send(general, f"{t.name} says {n}"))

    clock = Stopwatch()
    chaos.enabled = True
    try:
        async with asyncio.timeout(BUDGET):
            await asyncio.gather(*(produce(t) for t in clients))
            for t in clients:
                await t.client.flush()
            await clients[0].until(
                lambda: all(
                    len(t.acked) == PER_CLIENT and t.client.cache.synced_seq(general) == TOTAL
                    for t in clients
                ),
                timeout=BUDGET,
            )
        elapsed = clock.elapsed
    except TimeoutError as exc:
        raise AssertionError(f"stuck: {describe(clients, general)}; {chaos.fates}") from exc
    finally:
        for t in clients:
            await t.client.close()
        await chaos.stop()
    fates = chaos.fates
    print(
        f"\n{TOTAL} messages from {CLIENTS} clients in {elapsed:.1f} s through "
        f"{fates.connections} connections: {fates.cuts} cut mid-frame, {fates.stalls} "
        f"stalls ({fates.stalled_seconds:.1f} s), {fates.pieces} pieces (seed {seed})"
    )
    where = f"(seed {seed})"
    assert fates.cuts >= 5 and fates.stalls >= 3, (fates, where)

    log = server_log(server, general)
    assert [seq for seq, *_ in log] == list(range(1, TOTAL + 1)), where
    stored = {cid: seq for seq, _, _, cid in log}
    assert stored.keys() == {cid for ids in sent.values() for cid in ids}, where
    for t in clients:
        assert t.acked == {cid: stored[cid] for cid in sent[t.name]}, (t.name, where)
        seqs = [stored[cid] for cid in sent[t.name]]
        assert seqs == sorted(seqs), (t.name, where)
        assert cached_messages(t.client.profile.cache_path, general) == log, (t.name, where)
