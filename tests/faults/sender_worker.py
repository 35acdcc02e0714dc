"""A client process of the SIGKILL test: real client cores for a few users, each
sending its messages through its outbox, reporting on stdout one JSON object a line:

    {"event": "ready"}                    every client is connected and caught up
    {"event": "acked", "count": N}        acks this process has had so far
    {"event": "done", "report": PATH}    a JSON file: room, sent ids, acks, caches
    {"event": "failed", "error": "..."}

It starts sending when a line arrives on stdin, and is done once every message is
acked and every client holds the room's first ``total`` messages gap-free.

    python -m tests.faults.sender_worker HOME ROOM PER_CLIENT TYPED_AHEAD TOTAL USER...
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from tests.faults.clients import Tracked, open_clients, profile_store

BUDGET = 120.0
"""Seconds this process may run at most (the test's own deadline is shorter)."""


def emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


async def run(
    home: Path, room_name: str, per_client: int, ahead: int, total: int, names: list[str]
) -> None:
    clients = await open_clients([profile_store(home, name).get() for name in names])
    try:
        room = next(r.id for r in clients[0].client.state.rooms.values() if r.name == room_name)
        count = 0

        def acked() -> None:
            nonlocal count
            count += 1
            emit({"event": "acked", "count": count})

        for t in clients:
            t.on_ack = acked
        emit({"event": "ready"})
        await asyncio.to_thread(sys.stdin.readline)
        sent: dict[str, list[str]] = {t.name: [] for t in clients}

        async def produce(t: Tracked) -> None:
            mine = sent[t.name]
            for n in range(per_client):
                await t.until(lambda: len(mine) - len(t.acked) < ahead, timeout=BUDGET)
                mine.append(t.client.send(room, f"{t.name} says {n}"))

        async def report() -> None:  # for a post-mortem: where each client stands
            while True:
                await asyncio.sleep(2)
                states = [
                    f"{t.name} sent={len(sent[t.name])} acked={len(t.acked)} "
                    f"outbox={t.client.outbox.pending_count()} "
                    f"synced={t.client.cache.synced_seq(room)} connected={t.client.connected}"
                    for t in clients
                ]
                print(f"{time.monotonic():.1f} " + "; ".join(states), file=sys.stderr, flush=True)

        reporter = asyncio.get_running_loop().create_task(report())
        await asyncio.gather(*(produce(t) for t in clients))
        for t in clients:
            await t.client.flush()
        await clients[0].until(
            lambda: all(t.client.cache.synced_seq(room) == total for t in clients),
            timeout=BUDGET,
        )
        reporter.cancel()
        summary = {
            "room": room,
            "sent": sent,
            "acked": {t.name: t.acked for t in clients},
            "caches": {t.name: str(t.client.profile.cache_path) for t in clients},
        }
        path = home / f"report-{names[0]}.json"
        path.write_text(json.dumps(summary))
        emit({"event": "done", "report": str(path)})
    finally:
        for t in clients:
            await t.client.close()


def main(argv: list[str]) -> int:
    home, room_name, per_client, ahead, total, *names = argv
    try:
        asyncio.run(
            asyncio.wait_for(
                run(Path(home), room_name, int(per_client), int(ahead), int(total), names),
                BUDGET,
            )
        )
    except BaseException as exc:  # reported, then the exit code says it failed
        emit({"event": "failed", "error": f"{type(exc).__name__}: {exc}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
