"""Run the benchmark suite: ``python -m bench.run`` (what ``make bench`` runs).

Starts the load generators (their own processes), then runs each scenario against
tchat and its baseline in turn, each server in its own process on its own core.
Writes ``bench/results/latest.json`` and ``bench/results/latest.md`` and prints the
table. ``--quick`` shrinks every scenario (for smoke tests); ``--only`` picks some.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.loadgen import loop_name, raise_nofile
from bench.procs import LoadGen, cpu_plan
from bench.report import machine, table
from bench.scenarios import Bench, Result

__all__ = ["main"]

RESULTS = Path(__file__).resolve().parent / "results"


def plan(bench: Bench, quick: bool) -> dict[str, Callable[[], list[Result]]]:
    if quick:
        return {
            "fanout_100": lambda: bench.fanout(50),
            "persisted": bench.persisted,
            "storage": lambda: bench.storage(20_000),
            "idle_memory": lambda: bench.idle_memory(200),
            "reconnect_storm": lambda: bench.reconnect_storm(200),
            "slow_consumer": lambda: bench.slow_consumer(100),
            "realistic_mix": lambda: bench.realistic_mix(200),
        }
    return {
        "fanout_100": lambda: bench.fanout(100),
        "fanout_1000": lambda: bench.fanout(1000),
        "fanout_5000": lambda: bench.fanout(5000),
        "persisted": bench.persisted,
        "storage": lambda: bench.storage(1_000_000),
        "idle_memory": lambda: bench.idle_memory(10_000),
        "reconnect_storm": lambda: bench.reconnect_storm(5000),
        "slow_consumer": lambda: bench.slow_consumer(1000),
        "realistic_mix": lambda: bench.realistic_mix(5000),
        "client": bench.client,
        "client_memory": bench.client_memory,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="tchat benchmark suite")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)

    raise_nofile()
    server_cpu, loadgen_cpus = cpu_plan()
    if loadgen_cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(loadgen_cpus))
    lg = LoadGen(args.workers, loadgen_cpus)
    bench = Bench(lg, server_cpu, args.quick)
    results: list[Result] = []
    failures: dict[str, str] = {}
    started = time.monotonic()
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    try:
        scenarios = plan(bench, args.quick)
        wanted = [n for n in args.only.split(",") if n] or list(scenarios)
        for name in wanted:
            t0 = time.monotonic()
            print(f"-- {name} ...", file=sys.stderr, flush=True)
            try:
                found = scenarios[name]()
            except Exception:
                failures[name] = traceback.format_exc()
                print(failures[name], file=sys.stderr, flush=True)
                continue
            for result in found:
                print(
                    f"   {result.metric}: {result.value:.4g} {result.unit} vs "
                    f"{result.baseline:.4g} ({result.ratio:.2f}x)",
                    file=sys.stderr,
                    flush=True,
                )
            print(f"   ({time.monotonic() - t0:.0f} s)", file=sys.stderr, flush=True)
            results.extend(found)
    finally:
        lg.close()
        bench.close()
    elapsed = time.monotonic() - started
    info: dict[str, Any] = machine(server_cpu, loadgen_cpus, args.workers)
    info["elapsed_s"] = round(elapsed, 1)
    # Other work on the machine inflates wall-clock figures (not the ratios as much).
    info["load_before"] = [round(x, 2) for x in load_before]
    if hasattr(os, "getloadavg"):
        info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    info["quick"] = args.quick
    info["loadgen_loop"] = loop_name()
    info["python"] = platform.python_version()
    args.out.mkdir(parents=True, exist_ok=True)
    document = {"machine": info, "scenarios": [r.as_dict() for r in results], "failures": failures}
    (args.out / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    text = table(results, info)
    (args.out / "latest.md").write_text(text)
    print(text)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
