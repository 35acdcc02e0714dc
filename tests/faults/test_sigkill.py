"""The server process is killed with SIGKILL three times, at random points, while
20 clients send 500 messages each: once the clients have flushed their outboxes,
every acknowledged id is stored exactly once, each sender's order holds, and
every client's view of the room equals the server's log.

The clients are real client cores in four worker processes (five each, so that
the load spreads over the cores), with their files in memory when the machine has
it (``client_homes``: the clients are not what fails here). The server, on disk, is
restarted on the same port each time, and the clients find it again by themselves.
The seed of the random points is printed, and ``FAULT_SEED`` replays it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

from tests.faults.clients import cached_messages, sign_in_all
from tests.faults.process import REPO, ServerProcess, StartProcess, Stopwatch, server_log

CLIENTS = 20
PER_CLIENT = 500
TOTAL = CLIENTS * PER_CLIENT
KILLS = 3
WORKERS = 4
TYPED_AHEAD = 25
"""Messages a client holds in its outbox at once, as someone typing ahead would."""
BUDGET = 90.0
"""Seconds the run may take (about 20 s on 2 cores)."""


def load_report(path: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(Path(path).read_text())
    return report


class Worker:
    """A ``sender_worker`` process and what it reported."""

    def __init__(self, proc: asyncio.subprocess.Process, changed: asyncio.Event) -> None:
        self.proc = proc
        self.changed = changed
        self.ready = False
        self.acked = 0
        self.done: dict[str, Any] | None = None
        self.failed: str | None = None
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            while line := await self.proc.stdout.readline():
                record = json.loads(line)
                event = record["event"]
                if event == "ready":
                    self.ready = True
                elif event == "acked":
                    self.acked = record["count"]
                elif event == "done":
                    self.done = load_report(record["report"])
                elif event == "failed":
                    self.failed = record["error"]
                self.changed.set()
        except Exception as exc:
            self.failed = f"unreadable report: {exc!r}"
        self.failed = self.failed or ("exited" if self.done is None else None)
        self.changed.set()

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")


async def until(changed: asyncio.Event, workers: list[Worker], condition: Any) -> None:
    while True:
        changed.clear()
        failed = [w.failed for w in workers if w.failed]
        assert not failed, failed
        if condition():
            return
        await changed.wait()


async def start_workers(
    home: Path, names: list[str], changed: asyncio.Event, logs: Path
) -> list[Worker]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCHAT_")}
    workers = []
    for i in range(WORKERS):
        mine = names[i::WORKERS]
        with (logs / f"worker{i}.log").open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.faults.sender_worker",
                str(home),
                "general",
                str(PER_CLIENT),
                str(TYPED_AHEAD),
                str(TOTAL),
                *mine,
                cwd=REPO,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        workers.append(Worker(proc, changed))
    return workers


async def kill_at(server: ServerProcess, points: list[int], acked: Any, wait: Any) -> list[int]:
    """SIGKILL the server once the acks reach each point, and start it again."""
    seen: list[int] = []
    for point in points:
        await wait(lambda point=point: acked() >= point)
        await server.kill()
        seen.append(acked())
        await server.start()
    return seen


async def test_sigkill_three_times_while_twenty_clients_send(
    server_process: StartProcess, client_homes: Path, tmp_path: Path
) -> None:
    seed = int(os.environ.get("FAULT_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    names = [f"user{i:02d}" for i in range(CLIENTS)]
    # Every reconnect is replayed in full (no room is ever "too far behind"), so each
    # client's view can be compared with the whole log.
    server = await server_process(users=names, resume_cap=TOTAL)
    home = client_homes
    await sign_in_all(server.url, names, home)
    changed = asyncio.Event()
    workers = await start_workers(home, names, changed, tmp_path)
    clock = Stopwatch()
    try:
        async with asyncio.timeout(BUDGET):

            async def wait(condition: Any) -> None:
                await until(changed, workers, condition)

            await wait(lambda: all(w.ready for w in workers))
            clock = Stopwatch()
            for worker in workers:
                worker.go()
            points = sorted(rng.sample(range(TOTAL // 10, TOTAL * 9 // 10), KILLS))
            kill_points = await kill_at(server, points, lambda: sum(w.acked for w in workers), wait)
            await wait(lambda: all(w.done for w in workers))
            for worker in workers:
                assert await worker.proc.wait() == 0
    except BaseException:
        # Where each client stood (the workers log it every 2 s), for the post-mortem.
        for i in range(WORKERS):
            lines = (tmp_path / f"worker{i}.log").read_text(errors="replace").splitlines()
            print(f"worker {i}: acked {workers[i].acked}, done {workers[i].done is not None}")
            print("\n".join(lines[-3:]))
        print(server.log()[-3000:])
        raise
    finally:
        for worker in workers:
            if worker.proc.returncode is None:
                worker.proc.kill()
                await worker.proc.wait()
            with contextlib.suppress(BaseException):
                await worker.reader
        assert await server.stop() == 0
    elapsed = clock.elapsed
    print(
        f"\n{TOTAL} messages from {CLIENTS} clients in {WORKERS} processes, "
        f"{server.kills} SIGKILLs after {kill_points} acks, in {elapsed:.1f} s (seed {seed})"
    )

    where = f"(seed {seed}, kills after {kill_points} acks)"
    reports = [w.done for w in workers if w.done is not None]
    sent: dict[str, list[str]] = {n: ids for r in reports for n, ids in r["sent"].items()}
    acked: dict[str, dict[str, int]] = {n: a for r in reports for n, a in r["acked"].items()}
    caches = {n: Path(c) for r in reports for n, c in r["caches"].items()}
    general = reports[0]["room"]
    assert server.kills == KILLS and all(p < TOTAL for p in kill_points), where

    log = server_log(server, general)
    # Stored exactly once, gap-free: one row per id, seqs 1..TOTAL.
    assert [seq for seq, *_ in log] == list(range(1, TOTAL + 1)), where
    stored = {cid: seq for seq, _, _, cid in log}
    assert len(stored) == TOTAL, where
    assert stored.keys() == {cid for ids in sent.values() for cid in ids}, where
    bodies = {cid: (author, body) for _, author, body, cid in log}
    for name in names:
        # Every message was acked, and each ack gave the seq that is stored...
        assert acked[name] == {cid: stored[cid] for cid in sent[name]}, (name, where)
        # ...by its author, with its body, in the order its author sent them.
        assert [bodies[cid] for cid in sent[name]] == [
            (name, f"{name} says {n}") for n in range(PER_CLIENT)
        ], (name, where)
        seqs = [stored[cid] for cid in sent[name]]
        assert seqs == sorted(seqs), (name, where)
        # Every client's view of the room is the server's log.
        assert cached_messages(caches[name], general) == log, (name, where)
    assert elapsed < BUDGET
