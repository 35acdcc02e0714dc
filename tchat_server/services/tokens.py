"""Session token lifetimes: when a token was last used, and when it has expired.

``tokens.last_used_at`` says when a token last let someone in (a ``hello``) or kept
a live session going. Writing it on every ``hello`` would turn a reconnect storm
(a server restart, a flaky network) into a write storm, so each token is written at
most once per ``WRITE_EVERY`` seconds: this process remembers when it last wrote
each token, queues the uses that are due, and writes the queue a moment later in
one statement, off the ``hello`` path (a ``hello`` never waits for, or fails on,
that write: a full disk does not lock anyone out).

A token idle for longer than ``token_idle_days``, or older than
``token_max_days``, is expired: it is refused like an unknown one
(``token_invalid``) and revoked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from tchat_server.storage.db import StorageUnavailable
from tchat_server.storage.users import TokenTimes, UserStore

__all__ = ["DAY", "EXPIRY_SWEEP_EVERY", "WRITE_DELAY", "WRITE_EVERY", "TokenLifetimes"]

DAY = 86400.0
WRITE_EVERY = 3600.0
"""Seconds between two writes of one token's ``last_used_at``; the idle limit is
counted in days, so an hour of imprecision is nothing."""
WRITE_DELAY = 1.0
"""Seconds uses wait in memory, so that a burst of hellos is one statement."""
EXPIRY_SWEEP_EVERY = 3600.0
"""Seconds between two revocations of every expired token (those nobody presents)."""

log = logging.getLogger("tchat.server")


class TokenLifetimes:
    """Expiry checks and throttled ``last_used_at`` writes for one server process."""

    def __init__(
        self,
        users: UserStore,
        *,
        idle_days: int = 90,
        max_days: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._users = users
        self.idle = idle_days * DAY
        """Seconds a token may go unused (0: forever)."""
        self.max_age = max_days * DAY
        """Seconds a token lives at most, used or not (0: forever)."""
        self.clock = clock
        """Wall-clock seconds; tests put a clock of their own here."""
        self._written: dict[bytes, float] = {}
        """Token -> the last use this process wrote (or found already stored)."""
        self._due: dict[bytes, float] = {}
        """Token -> its latest use not yet written."""
        self.write_delay = WRITE_DELAY
        """Seconds between the first queued use and the write of everything queued."""
        self._failing = False
        self._writer: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        self._last_sweep = float("-inf")
        self.writes = 0
        """Statements written so far (each covering every use due at the time)."""

    # ------------------------------------------------------------- checks

    def expired(self, times: TokenTimes, token_hash: bytes | None = None) -> str | None:
        """Why a token may no longer be used (``idle``, ``too old``), or None while
        it may; with its hash, uses this process has not written yet count too."""
        now = self.clock()
        last = times.last_used_at
        if token_hash is not None:
            last = max(last, self._last_use(token_hash))
        if self.idle and now - last > self.idle:
            return "idle"
        if self.max_age and now - times.created_at > self.max_age:
            return "too old"
        return None

    def _last_use(self, token_hash: bytes) -> float:
        return max(self._written.get(token_hash, 0.0), self._due.get(token_hash, 0.0))

    # --------------------------------------------------------------- uses

    def issued(self, token_hash: bytes) -> None:
        """A token was just made (its row says ``last_used_at`` = now)."""
        self._written[token_hash] = self.clock()

    def used(self, token_hash: bytes, stored_last_used: float) -> None:
        """A token let someone in: queue a write when the stored time is an hour old."""
        now = self.clock()
        written = max(self._written.get(token_hash, 0.0), stored_last_used)
        self._written[token_hash] = written
        if now - max(written, self._due.get(token_hash, 0.0)) >= WRITE_EVERY:
            self._due[token_hash] = now
            self._write_soon()

    def seen_live(self, token_hashes: Iterable[bytes]) -> None:
        """These tokens hold open sessions (the revocation sweep's list): a session
        kept open for months is use too, so its token is not idle on reconnect."""
        now = self.clock()
        for token_hash in token_hashes:
            if now - self._last_use(token_hash) >= WRITE_EVERY:
                self._due[token_hash] = now
        if self._due:
            self._write_soon()

    def forget(self, token_hash: bytes) -> None:
        """The token is revoked: nothing to remember or write for it."""
        self._written.pop(token_hash, None)
        self._due.pop(token_hash, None)

    @property
    def scheduled(self) -> asyncio.Task[None] | None:
        """The write waiting to happen (a moment after the first queued use), if any."""
        return self._writer if self._writer is not None and not self._writer.done() else None

    def _write_soon(self) -> None:
        if self._writer is not None and not self._writer.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (never in the server): written at close
            return
        self._writer = loop.create_task(self._write_later(), name="token-last-used")

    async def _write_later(self) -> None:
        await asyncio.sleep(self.write_delay)
        await self.flush()

    async def flush(self) -> None:
        """Write every queued use now, in one statement (waits for a write under way).

        A failed write (disk full) keeps the uses queued for the next one.
        """
        async with self._flush_lock:
            due, self._due = self._due, {}
            if not due:
                return
            try:
                await self._users.touch_tokens(sorted(due.items()))
            except StorageUnavailable as exc:
                for token_hash, at in due.items():
                    self._due[token_hash] = max(at, self._due.get(token_hash, 0.0))
                if not self._failing:  # once per outage; the sweep retries every few s
                    log.warning("could not record when %d token(s) were used: %s", len(due), exc)
                self._failing = True
                return
            self._failing = False
            self.writes += 1
            for token_hash, at in due.items():
                self._written[token_hash] = max(at, self._written.get(token_hash, 0.0))
            # Older than the write interval, a remembered write saves nothing: the
            # stored time (read at each hello) says as much. Keeps the map small.
            horizon = self.clock() - WRITE_EVERY
            self._written = {h: at for h, at in self._written.items() if at >= horizon}

    async def expire_due(self) -> int:
        """Revoke every expired token, at most once per ``EXPIRY_SWEEP_EVERY``
        (the revocation sweep calls this; it then closes their sessions)."""
        if not (self.idle or self.max_age):
            return 0
        now = self.clock()
        if now - self._last_sweep < EXPIRY_SWEEP_EVERY:
            return 0
        self._last_sweep = now
        await self.flush()  # uses still in memory count
        return await self._users.revoke_expired(
            now - self.idle if self.idle else None,
            now - self.max_age if self.max_age else None,
        )

    async def close(self) -> None:
        """Write what is queued (best effort), then drop the scheduled write.

        Flushing first waits for a write under way (it holds the lock), so the
        cancel below only ever stops a sleep or a wait for the lock, never a
        transaction half-way."""
        with contextlib.suppress(Exception):
            await self.flush()
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
