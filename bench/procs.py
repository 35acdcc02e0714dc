"""Processes of a benchmark run: the server under test and the load generators.

On a machine with two or more cores the server gets core 0 to itself and the load
generators share the others, so the figures say what one Python process can serve.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.loadgen import worker_main

__all__ = ["LoadGen", "ServerProc", "cpu_plan"]

REPO = Path(__file__).resolve().parent.parent


def cpu_plan() -> tuple[int | None, list[int] | None]:
    """(server core, load-generator cores); no pinning on a single core."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:
        return None, None
    if len(cpus) < 2:
        return None, None
    return cpus[0], cpus[1:]


class ServerProc:
    """``python -m bench.serve KIND``: started, asked its port, measured, stopped."""

    def __init__(self, kind: str, *args: str, cpu: int | None = None) -> None:
        command = [sys.executable, "-m", "bench.serve", kind, *args]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        self.kind = kind
        self.proc = subprocess.Popen(
            command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"{kind} server did not start: {line!r}")
        self.port = int(line.split()[1])

    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class LoadGen:
    """A few load-generator processes; ``call`` sends one command to each."""

    def __init__(self, count: int, cpus: list[int] | None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes = []
        self.procs = []
        for _ in range(count):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(child, cpus), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def __len__(self) -> int:
        return len(self.pipes)

    def call(self, commands: list[dict[str, Any]], timeout: float = 180.0) -> list[dict[str, Any]]:
        """One command per worker, run concurrently; their answers in order."""
        self.send(commands)
        return self.collect(timeout)

    def send(self, commands: list[dict[str, Any]]) -> None:
        """Start one command per worker (``collect`` gathers the answers)."""
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)

    def collect(self, timeout: float = 180.0) -> list[dict[str, Any]]:
        """The answers to the commands ``send`` started, in order."""
        results = []
        deadline = time.monotonic() + timeout
        for pipe in self.pipes:
            if not pipe.poll(max(0.1, deadline - time.monotonic())):
                raise TimeoutError("a load generator did not answer in time")
            result = pipe.recv()
            if "error" in result:
                raise RuntimeError(f"load generator failed: {result['error']}")
            results.append(result)
        return results

    def same(self, command: dict[str, Any], timeout: float = 180.0) -> list[dict[str, Any]]:
        return self.call([dict(command) for _ in self.pipes], timeout)

    def close(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send({"cmd": "exit"})
                pipe.poll(15)
            except (OSError, EOFError):
                pass
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
