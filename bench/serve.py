"""The two servers under test, each run in its own process pinned to one core.

``python -m bench.serve tchat --data-dir D [--max-batch N]``: the real server
(authentication, validation, rate limiting, persistence with ``synchronous=FULL``
and group commit), with a per-connection rate limit high enough not to refuse the
load generator. ``python -m bench.serve relay``: the baseline, a bare websockets
``broadcast()`` relay that answers the first frame with a fixed welcome and then
broadcasts every frame it receives, verbatim, to every connection on the same URL
path. It parses and stores nothing.

Both print ``PORT <n>`` once listening and stop when stdin closes. With
``TCHAT_BENCH_GCSTATS=1`` tchat prints the collector's CPU time when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import sys
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

__all__ = ["main"]

WELCOME = b'{"type":"welcome"}'


async def _until_stdin_closes() -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


async def relay(host: str) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    rooms: dict[str, set[ServerConnection]] = {}

    async def handler(ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.recv()
            await ws.send(WELCOME, text=True)
            room = rooms.setdefault(ws.request.path if ws.request else "/", set())
            room.add(ws)
            try:
                async for raw in ws:
                    broadcast(room, raw)
            finally:
                room.discard(ws)

    async with serve(
        handler, host, 0, compression=None, max_size=64 * 1024, max_queue=16, backlog=2048
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"PORT {port}", flush=True)
        await _until_stdin_closes()


class _GcTimer:
    """The collector's CPU on the loop's thread, per generation (``gc.callbacks``):
    ``TCHAT_BENCH_GCSTATS=1`` prints it when the server stops."""

    def __init__(self) -> None:
        self.started = 0.0
        self.by_generation = [[0, 0.0], [0, 0.0], [0, 0.0]]
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.thread_time()
            return
        entry = self.by_generation[info["generation"]]
        entry[0] += 1
        entry[1] += time.thread_time() - self.started

    def report(self) -> str:
        total = sum(seconds for _, seconds in self.by_generation)
        parts = ", ".join(
            f"gen{g}: {n} in {t:.3f} s" for g, (n, t) in enumerate(self.by_generation)
        )
        return f"GC {total:.3f} s of thread CPU ({parts})"


async def tchat(host: str, data_dir: Path, max_batch: int, profile: Path | None) -> None:
    from tchat_server.app import TchatServer
    from tchat_server.config import Argon2Params, ServerConfig
    from tchat_server.runtime import tune_gc
    from tchat_server.session import Session

    Session.max_batch = max_batch
    # Limits that would refuse the load generator (all its clients come from one
    # address at rates no person types) are lifted; everything else is the default.
    lifted: dict[str, Any] = {
        "rate_per_second": 1e9,
        "rate_burst": 10**9,
        "max_connections_per_address": 10**6,
    }
    known = {f.name for f in fields(ServerConfig)}
    config = replace(
        ServerConfig(host=host, port=0, data_dir=data_dir, argon2=Argon2Params.cheap()),
        **{k: v for k, v in lifted.items() if k in known},
    )
    server = TchatServer(config)
    await server.start()
    tune_gc()  # as `tchat-server serve` does
    timer = _GcTimer() if os.environ.get("TCHAT_BENCH_GCSTATS") else None
    print(f"PORT {server.port}", flush=True)
    profiler = None
    if profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        profiler.start()
    try:
        await _until_stdin_closes()
    finally:
        if profiler is not None and profile is not None:
            profiler.stop()
            text = profiler.output_text(unicode=True, show_all=False)
            await asyncio.to_thread(profile.write_text, text)
        if timer is not None:
            print(timer.report(), file=sys.stderr, flush=True)
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["tchat", "relay"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this core")
    parser.add_argument("--profile", type=Path, default=None, help="pyinstrument text output")
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    import logging

    logging.basicConfig(level=logging.WARNING)
    if args.kind == "relay":
        asyncio.run(relay(args.host))
    else:
        asyncio.run(tchat(args.host, args.data_dir, args.max_batch, args.profile))


if __name__ == "__main__":
    main()
