"""Rate limits: a token bucket per connection and sliding windows for logins.

Both are plain classes on a monotonic clock (passed in, so tests can drive them).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["SlidingWindow", "TokenBucket"]

Clock = Callable[[], float]


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; each accepted frame spends one."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._stamp = clock()

    def take(self) -> float:
        """Spend a token: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate


class SlidingWindow:
    """At most ``limit`` events per key within ``window`` seconds (e.g. failed logins)."""

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float:
        """0.0 when another event is allowed now, else seconds to wait."""
        events = self._prune(key)
        if events is None or len(events) < self._limit:
            return 0.0
        return max(0.01, events[0] + self._window - self._clock())

    def record(self, key: str) -> None:
        self._events.setdefault(key, deque()).append(self._clock())
        if len(self._events) > 100_000:
            self._sweep()

    def reset(self, key: str) -> None:
        self._events.pop(key, None)

    def _prune(self, key: str) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        horizon = self._clock() - self._window
        while events and events[0] <= horizon:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def _sweep(self) -> None:
        for key in list(self._events):
            self._prune(key)
