"""A load-generator process: many ``BenchClient`` connections driven by commands.

The coordinator (``bench.run``) starts a few of these with ``multiprocessing``
and sends each a command at a time over a pipe; every command is bounded in count
and in time and returns a plain dict. Sends carry ``b<sender> <monotonic ns>`` at
the start of the body (CLOCK_MONOTONIC is system-wide, so another process can read
the latency), and the same bytes go to the tchat server and to the bare relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import resource
import secrets
import time
from multiprocessing.connection import Connection
from typing import Any

from bench.wsclient import BenchClient, Stats, open_client

__all__ = ["worker_main"]

PADDING = "x" * 40
"""Bodies are about 70 bytes: a short chat line."""
MAX_SAMPLES = 400_000


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Worker:
    def __init__(self) -> None:
        self.stats = Stats()
        self.clients: dict[int, BenchClient] = {}
        self.rooms: dict[int, int] = {}
        self.senders: list[BenchClient] = []
        self.sender_ids: dict[int, int] = {}
        self.window = 0
        self.running = False
        self._ids = itertools.count(1)
        self._nonce = secrets.token_hex(3)

    # ------------------------------------------------------------ commands

    async def connect(
        self,
        host: str,
        port: int,
        clients: list[dict[str, Any]],
        concurrency: int = 200,
        timeout: float = 60.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Open clients (id, first frame, path, room, sender, probe, wait_for) and wait
        until each is ready; returns how many made it and how long it took."""
        started = time.monotonic()
        gate = asyncio.Semaphore(concurrency)
        failed = 0
        ready_times: list[float] = []

        async def one(spec: dict[str, Any]) -> None:
            nonlocal failed
            async with gate:
                try:
                    sid = spec["id"]
                    marker = f'"body":"b{sid} '.encode() if spec.get("sender") else None
                    client = await asyncio.wait_for(
                        open_client(
                            host,
                            port,
                            spec.get("path", "/"),
                            spec["first"].encode(),
                            self.stats,
                            probe=spec.get("probe", False),
                            marker=marker,
                            on_echo=self._on_echo,
                            wait_for=spec["wait_for"].encode() if spec.get("wait_for") else None,
                        ),
                        timeout,
                    )
                    self.clients[sid] = client
                    self.rooms[sid] = spec.get("room", 0)
                    ready_times.append(await asyncio.wait_for(client.ready, timeout))
                    if spec.get("sender"):
                        self.senders.append(client)
                        self.sender_ids[id(client)] = sid
                except (OSError, TimeoutError, ConnectionError):
                    failed += 1

        await asyncio.gather(*(one(spec) for spec in clients))
        last = max(ready_times) if ready_times else time.monotonic()
        return {"ok": len(clients) - failed, "failed": failed, "elapsed": last - started}

    def _message(self, client: BenchClient) -> bytes:
        sid = self.sender_ids[id(client)]
        room = self.rooms[sid]
        body = f"b{sid} {time.monotonic_ns()} {PADDING}"
        cid = f"{self._nonce}-{sid}-{next(self._ids)}"
        return f'{{"type":"send","client_msg_id":"{cid}","room":{room},"body":"{body}"}}'.encode()

    def _send_one(self, client: BenchClient) -> None:
        client.send(self._message(client))
        client.msgs += 1

    def _on_echo(self, client: BenchClient) -> None:
        if not self.running or not self.window:
            return
        while client.msgs - client.echoes < self.window:
            self._send_one(client)

    async def run(
        self,
        mode: str,
        t0: float,
        warmup: float,
        duration: float,
        window: int = 0,
        rate: float = 0.0,
    ) -> dict[str, Any]:
        """Send (closed loop with ``window`` messages in flight per sender, or paced at
        ``rate`` messages/s across this worker's senders) from monotonic time ``t0``;
        count what arrives in [t0 + warmup, t0 + warmup + duration]."""
        await asyncio.sleep(max(0.0, t0 - time.monotonic()))
        stats = self.stats
        stats.latencies_ns = []
        self.running = True
        for client in self.senders:
            client.msgs = client.echoes
        sent_before = sum(c.msgs for c in self.senders)
        pacer: asyncio.Task[None] | None = None
        if mode == "closed":
            self.window = window
            for client in self.senders:
                self._on_echo(client)
        elif self.senders and rate > 0:
            pacer = asyncio.get_running_loop().create_task(self._pace(rate, t0))
        await asyncio.sleep(max(0.0, t0 + warmup - time.monotonic()))
        d0, f0, e0 = stats.deliveries, stats.frames, stats.errors
        stats.sampling = True
        measured_from = time.monotonic()
        cpu0 = time.process_time()
        await asyncio.sleep(max(0.0, t0 + warmup + duration - time.monotonic()))
        elapsed = time.monotonic() - measured_from
        cpu = time.process_time() - cpu0
        stats.sampling = False
        d1, f1, e1 = stats.deliveries, stats.frames, stats.errors
        self.running = False
        self.window = 0
        if pacer is not None:
            pacer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pacer
        # Let what is in flight arrive, so that the next phase starts from quiet.
        quiet_until = time.monotonic() + 5.0
        while time.monotonic() < quiet_until:
            before = stats.deliveries
            await asyncio.sleep(0.2)
            if stats.deliveries == before:
                break
        latencies = stats.latencies_ns[:MAX_SAMPLES]
        sent = sum(c.msgs for c in self.senders) - sent_before
        return {
            "deliveries": d1 - d0,
            "frames": f1 - f0,
            "errors": e1 - e0,
            "seconds": elapsed,
            "cpu_s": cpu,
            "sent": sent,
            "latencies_ns": latencies,
            "closed": sum(1 for c in self.clients.values() if c.closed.done()),
        }

    async def _pace(self, rate: float, t0: float) -> None:
        senders = itertools.cycle(self.senders)
        sent = 0
        while True:
            due = int((time.monotonic() - t0) * rate) - sent
            for _ in range(max(0, due)):
                self._send_one(next(senders))
            sent += max(0, due)
            await asyncio.sleep(0.002)

    def pause_reading(self, ids: list[int]) -> dict[str, Any]:
        for sid in ids:
            client = self.clients.get(sid)
            if client is not None and client.transport is not None:
                client.transport.pause_reading()
        return {"paused": len(ids)}

    async def close_all(self, abort: bool = False) -> dict[str, Any]:
        for client in self.clients.values():
            client.abort() if abort else client.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(c.closed for c in self.clients.values())), 10.0)
        codes: dict[str, int] = {}
        for client in self.clients.values():
            key = str(client.close_code)
            codes[key] = codes.get(key, 0) + 1
        self.clients.clear()
        self.senders.clear()
        self.sender_ids.clear()
        self.rooms.clear()
        return {"close_codes": codes}

    def status(self) -> dict[str, Any]:
        codes: dict[str, int] = {}
        for client in self.clients.values():
            if client.closed.done():
                key = str(client.close_code)
                codes[key] = codes.get(key, 0) + 1
        return {"open": len(self.clients) - sum(codes.values()), "closed": codes}


async def _serve(pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    worker = Worker()
    while True:
        command: dict[str, Any] = await loop.run_in_executor(None, pipe.recv)
        name = command.pop("cmd")
        if name == "exit":
            await worker.close_all(abort=True)
            pipe.send({})
            return
        try:
            if name == "connect":
                result = await worker.connect(**command)
            elif name == "run":
                result = await worker.run(**command)
            elif name == "pause_reading":
                result = worker.pause_reading(**command)
            elif name == "close_all":
                result = await worker.close_all(**command)
            elif name == "status":
                result = worker.status()
            else:
                result = {"error": f"unknown command {name}"}
        except Exception as exc:  # reported to the coordinator, which fails the scenario
            result = {"error": repr(exc)}
        pipe.send(result)


def worker_main(pipe: Connection, cpus: list[int] | None) -> None:
    """Entry point of a load-generator process."""
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(cpus))
    raise_nofile()
    try:  # the load generator must outrun the servers: uvloop when it is installed
        import uvloop

        uvloop.run(_serve(pipe))
    except ImportError:
        asyncio.run(_serve(pipe))


def loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"
