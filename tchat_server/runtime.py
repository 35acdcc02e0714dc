"""Process-wide tuning of a serving process: the garbage collector.

CPython's cyclic collector runs a full (oldest generation) collection whenever
the long-lived heap has grown by a quarter, and each one walks every object of
every connection. Measured with ``bench/`` (5,000 clients reconnecting at once,
collector time on the loop's thread): the default thresholds ran 15 full
collections of ~0.2-0.4 s each, which was more than half the server's CPU for the
storm (1.1-1.5 ms of CPU per reconnect; 0.57 ms tuned) and a pause of that length
for every client at the time.

Most of what a server allocates dies by reference counting (frames, rows,
futures); the collector is only needed for reference cycles, which are rare on
the hot paths. So: freeze what start-up made (it lives for the whole process), and
collect the young generation every 50,000 allocations instead of 700, and the
oldest only after 100 middle collections (and, as always, after the long-lived
heap grew by a quarter): still bounded, never in the middle of every burst.

Only the serving process calls this (``tchat-server serve`` and ``bench/serve.py``);
tests that start many servers in one process keep the interpreter's defaults.
"""

from __future__ import annotations

import gc

__all__ = ["GC_THRESHOLDS", "tune_gc"]

GC_THRESHOLDS = (50_000, 50, 100)
"""(young, middle, oldest) as for ``gc.set_threshold``; the defaults are (700, 10, 10)."""


def tune_gc() -> None:
    """Freeze the objects start-up made and raise the collector's thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
