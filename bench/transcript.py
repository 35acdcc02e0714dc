"""Benchmark: the transcript against Textual's own ``Log``, headless, in one run.

Run: ``.venv/bin/python bench/transcript.py [--messages N] [--appends N]``, or
``--memory`` for the memory figures alone.

Measures, for the same 10,000 messages (``Log`` gets each body's first line):

* first paint: from handing the widget all messages to the end of its first paint;
* append: CPU per appended message, at the bottom so the view follows: the
  widget's own share (the append call plus its ``render_lines`` in the repaint that
  follows) and the whole frame's (everything until ``pilot.pause()`` returns:
  Textual's event loop, compositor and headless driver included);
* page up: the same two figures per page scrolled up through history that was
  never shown before.

With ``--memory``: what the app holds after 5,000, 25,000 and 50,000 messages
appended at the bottom in pages of 500 (a repaint after each), by ``tracemalloc``
(bytes allocated since the widget was mounted and still alive, after a
collection). The transcript drops its oldest entries past ``MAX_SHOWN``; the
baseline is ``Log(max_lines=MAX_SHOWN)``, bounded the same way (``--unbounded``
adds an unbounded ``Log``: 10 more seconds). Between 5,000 and 25,000 the process-wide LRU caches of rendering (the
body cache in ``tui/render.py``, Rich's cell-length and control-code caches) fill
up to their sizes; past that, a bounded widget stays flat. Goal: bounded, 50k/25k
<= 1.2x.

Absolute numbers depend on the machine; the team compares ratios against the
baseline measured in the same run. Goals: first paint <= 0.3 s, append <= 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Log

from tchat_client.tui.model import ShownMessage
from tchat_client.tui.widgets.transcript import Transcript

SIZE = (120, 40)
NOW = 1_800_000_000.0
WORDS = [
    "the",
    "a",
    "deploy",
    "build",
    "server",
    "client",
    "message",
    "room",
    "ship",
    "fix",
    "test",
    "merge",
    "review",
]


def bodies(count: int, seed: int = 42) -> list[str]:
    """A mix like a team chat: mostly short prose, some markdown, code, long ones."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 18)))
        kind = rng.random()
        if kind < 0.70:
            out.append(words)
        elif kind < 0.88:
            out.append(f"**{words}** with `code` and :tada: cc @me")
        elif kind < 0.94:
            out.append(f"{words}:\n```python\ndef f(x):\n    return x + 1\n```")
        else:
            out.append(" ".join([words] * 12))
    return out


def messages(texts: list[str]) -> list[ShownMessage]:
    authors = ["alice", "bob", "carol", "dave", "me"]
    count = len(texts)
    return [
        ShownMessage(1, seq, seq, authors[seq * 7 % 5], body, NOW - (count - seq) * 45.0)
        for seq, body in enumerate(texts, 1)
    ]


class PaintClock:
    """Notes when a widget's lines were last painted, and the time spent painting."""

    def __init__(self) -> None:
        self.painted_at = 0.0
        self.painting = 0.0

    def mark(self, started: float) -> None:
        self.painted_at = time.perf_counter()
        self.painting += self.painted_at - started


class TimedTranscript(Transcript):
    def __init__(self, clock: PaintClock) -> None:
        super().__init__(me="me", now=lambda: NOW)
        self.clock = clock

    def render_lines(self, crop: Region) -> list[Strip]:
        started = time.perf_counter()
        lines = super().render_lines(crop)
        self.clock.mark(started)
        return lines


class TimedLog(Log):
    def __init__(self, clock: PaintClock) -> None:
        super().__init__()
        self.clock = clock

    def render_lines(self, crop: Region) -> list[Strip]:
        started = time.perf_counter()
        lines = super().render_lines(crop)
        self.clock.mark(started)
        return lines


class BenchApp(App[None]):
    def __init__(self, make: Callable[[PaintClock], Transcript | Log]) -> None:
        super().__init__()
        self.clock = PaintClock()
        self.widget = make(self.clock)

    def compose(self) -> ComposeResult:
        yield self.widget


@dataclass
class Figures:
    first_paint: float
    append_widget: float
    append_frame: float
    page_widget: float
    page_frame: float


async def measure(kind: str, texts: list[str], appends: int, pages: int) -> Figures:
    shown = messages(texts)
    lines = [text.split("\n")[0] for text in texts]
    extra = bodies(appends, seed=7)
    app = BenchApp(TimedTranscript if kind == "transcript" else TimedLog)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        widget = app.widget
        start = time.perf_counter()
        if isinstance(widget, Transcript):
            widget.extend(shown)
        else:
            widget.write_lines(lines)
        await pilot.pause()
        first_paint = app.clock.painted_at - start

        clock = app.clock
        clock.painting = calls = 0.0
        cpu = time.process_time()
        for seq, body in enumerate(extra, len(texts) + 1):
            started = time.perf_counter()
            if isinstance(widget, Transcript):
                widget.append(ShownMessage(1, seq, seq, "bob", body, NOW))
            else:
                widget.write_line(body.split("\n")[0])
            calls += time.perf_counter() - started
            await pilot.pause()
        append_frame = (time.process_time() - cpu) / appends
        append_widget = (calls + clock.painting) / appends

        clock.painting = calls = 0.0
        cpu = time.process_time()
        for _ in range(pages):
            started = time.perf_counter()
            widget.scroll_page_up(animate=False)
            calls += time.perf_counter() - started
            await pilot.pause()
        page_frame = (time.process_time() - cpu) / pages
        page_widget = (calls + clock.painting) / pages
    return Figures(first_paint, append_widget, append_frame, page_widget, page_frame)


MEMORY_KINDS = ("transcript", "log_bounded")


async def measure_memory(kind: str, texts: list[str], points: set[int], batch: int) -> list[float]:
    """KiB held after each of ``points`` appends of ``texts`` (a multiple of ``batch``)."""
    cap = Transcript.MAX_SHOWN

    def make(clock: PaintClock) -> Transcript | Log:
        if kind == "transcript":
            return TimedTranscript(clock)
        widget = TimedLog(clock)
        widget.max_lines = cap if kind == "log_bounded" else None
        return widget

    app = BenchApp(make)
    held: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        widget = app.widget
        gc.collect()
        tracemalloc.start()
        try:
            for start in range(0, len(texts), batch):
                chunk = texts[start : start + batch]
                if isinstance(widget, Transcript):
                    widget.extend(
                        ShownMessage(1, seq, seq, "bob", body, NOW)
                        for seq, body in enumerate(chunk, start + 1)
                    )
                else:
                    widget.write_lines([body.split("\n")[0] for body in chunk])
                await pilot.pause()
                if start + batch in points:
                    gc.collect()
                    held.append(tracemalloc.get_traced_memory()[0] / 1024)
        finally:
            tracemalloc.stop()
    return held


def memory_main(appends: int, kinds: tuple[str, ...]) -> None:
    batch = 500
    points = [appends // 10, appends // 2, appends]
    texts = bodies(appends, seed=11)
    figures: dict[str, list[float]] = {}
    for kind in kinds:
        started = time.perf_counter()
        figures[kind] = asyncio.run(measure_memory(kind, texts, set(points), batch))
        figures[kind].append(time.perf_counter() - started)
    print(f"memory held after N messages appended, {SIZE[0]}x{SIZE[1]}, headless (KiB)")
    head = "".join(f"{n:>10,}" for n in points)
    print(f"{'widget':<28}{head}{'last/1st':>9}{'last/mid':>9}{'time (s)':>9}")
    names = {
        "transcript": "Transcript",
        "log_bounded": f"Log(max_lines={Transcript.MAX_SHOWN})",
        "log": "Log (unbounded)",
    }
    for kind, (first, mid, last, seconds) in figures.items():
        held = f"{first:>10.0f}{mid:>10.0f}{last:>10.0f}"
        print(f"{names[kind]:<28}{held}{last / first:>8.2f}x{last / mid:>8.2f}x{seconds:>9.1f}")
    print("JSON " + json.dumps({"points": points, "kib": figures}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--appends", type=int, default=200)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--memory", action="store_true", help="the memory figures alone")
    parser.add_argument("--unbounded", action="store_true", help="--memory: add a Log")
    args = parser.parse_args()
    if args.memory:
        kinds = (*MEMORY_KINDS, "log") if args.unbounded else MEMORY_KINDS
        memory_main(50_000 if args.appends == 200 else args.appends, kinds)
        return
    texts = bodies(args.messages)
    baseline = asyncio.run(measure("log", texts, args.appends, args.pages))
    ours = asyncio.run(measure("transcript", texts, args.appends, args.pages))

    print(f"{args.messages:,} messages, {SIZE[0]}x{SIZE[1]}, headless")
    print(f"{'metric':<30}{'Transcript':>11}{'Log':>9}{'ratio':>8}{'goal':>8}")
    ms = 1000.0
    rows = [
        ("first paint (s)", ours.first_paint, baseline.first_paint, 1.0, "<= 0.3"),
        ("append, widget CPU (ms)", ours.append_widget, baseline.append_widget, ms, "<= 5"),
        ("append, whole frame CPU (ms)", ours.append_frame, baseline.append_frame, ms, ""),
        ("page up, widget CPU (ms)", ours.page_widget, baseline.page_widget, ms, ""),
        ("page up, whole frame CPU (ms)", ours.page_frame, baseline.page_frame, ms, ""),
    ]
    for name, value, base, scale, goal in rows:
        ratio = value / base if base else float("inf")
        print(f"{name:<30}{value * scale:>11.3f}{base * scale:>9.3f}{ratio:>7.1f}x{goal:>8}")


if __name__ == "__main__":
    main()
