"""Rate limits: a token bucket per connection and sliding windows for logins, and
per-key locks that make attempts on one account take turns.

The limits are plain classes on a monotonic clock (passed in, so tests can drive them).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

__all__ = ["KeyedLocks", "SlidingWindow", "TokenBucket"]

Clock = Callable[[], float]


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; each accepted frame spends one."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._stamp = clock()

    def take(self, cost: float = 1.0) -> float:
        """Spend ``cost`` tokens (one frame; or bytes, for a byte budget): 0.0 when
        allowed, else the seconds until that many are free."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= cost:
            self._tokens -= cost
            return 0.0
        return (cost - self._tokens) / self._rate


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

    def forget_one(self, key: str) -> None:
        """Take back the latest event (an attempt that turned out to be fine)."""
        events = self._events.get(key)
        if events:
            events.pop()
            if not events:
                del self._events[key]

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


class KeyedLocks:
    """One lock per key, kept only while someone holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            _, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
