"""The readable side of a run: the machine it ran on and a Markdown table."""

from __future__ import annotations

import os
import platform
import time
from typing import Any

from bench.scenarios import Result

__all__ = ["machine", "table"]


def machine(server_cpu: int | None, loadgen_cpus: list[int] | None, workers: int) -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "server_core": server_cpu,
        "loadgen_cores": loadgen_cpus,
        "loadgen_processes": workers,
        "os": platform.platform(),
        "websockets": version("websockets"),
    }


def _fmt(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(results: list[Result], info: dict[str, Any]) -> str:
    lines = [
        "| scenario | metric | tchat | baseline | ratio | unit | baseline is | goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.metric} | {_fmt(r.value)} | {_fmt(r.baseline)} | "
            f"{r.ratio:.2f}x | {r.unit} | {r.baseline_name} | {r.goal} |"
        )
    lines.append("")
    lines.append(
        f"Ran {info.get('date')} on {info.get('cores')} cores ({info.get('cpu')}), "
        f"Python {info.get('python')}, websockets {info.get('websockets')}; server on core "
        f"{info.get('server_core')}, {info.get('loadgen_processes')} load-generator processes "
        f"on cores {info.get('loadgen_cores')}; {info.get('elapsed_s')} s in all."
    )
    if "load_before" in info:
        lines.append(
            f"Load average (1, 5, 15 min) before: {info['load_before']}, "
            f"after: {info.get('load_after')}."
        )
    return "\n".join(lines) + "\n"
