"""The client side of the fault tests: real client cores (``Client``), each with its
own profile, and what they were told. No pytest here: a worker process uses it too."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tchat_client.core import Client, ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.core.connection import Backoff
from tchat_client.core.events import ChangeEvent, MessageStateChanged
from tchat_client.core.profile import Profile

__all__ = [
    "DEADLINE",
    "PASSWORD",
    "Row",
    "Tracked",
    "cached_messages",
    "describe",
    "open_clients",
    "sign_in_all",
]

DEADLINE = 30.0
"""Seconds any single wait in these tests may take before it fails."""
PASSWORD = "correct horse battery"
"""The password of every seeded account (as in ``tests.conftest``)."""

Row = tuple[int, str, str, str | None]
"""(seq, author, body, client_msg_id) of one message."""


@dataclass
class Tracked:
    """A real client core for one user, with what it was told: each delivered id
    and the seq its ack gave."""

    name: str
    client: Client
    acked: dict[str, int] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set on every change event (shared by the clients of one test, so that a
    condition over all of them can be waited on); waiters clear, check, wait."""
    on_ack: Callable[[], None] | None = None

    def on_event(self, event: ChangeEvent) -> None:
        if (
            isinstance(event, MessageStateChanged)
            and event.state in ("delivered", "read")
            and event.seq is not None
            and event.client_msg_id not in self.acked
        ):
            self.acked[event.client_msg_id] = event.seq
            if self.on_ack is not None:
                self.on_ack()
        self.changed.set()

    async def until(
        self,
        condition: Callable[[], bool],
        timeout: float = DEADLINE,  # noqa: ASYNC109
    ) -> None:
        """Wait for ``condition`` (checked after every change event), with a deadline."""
        async with asyncio.timeout(timeout):
            while True:
                self.changed.clear()
                if condition():
                    return
                await self.changed.wait()


def fast_backoff() -> Backoff:
    """The client's own reconnect policy (exponential, full jitter), scaled down so
    that a test does not wait out a 30 s cap."""
    return Backoff(base=0.05, cap=0.5)


def profile_store(home: Path, name: str) -> ProfileStore:
    return ProfileStore(home / name, home / name)


async def sign_in_all(url: str, names: Iterable[str], home: Path) -> list[Profile]:
    """Log each user in once (a token in a profile of their own under ``home``)."""
    return [await sign_in(profile_store(home, n), url, n, PASSWORD) for n in names]


async def open_clients(
    profiles: Iterable[Profile],
    *,
    prefetch: bool = False,
    timeout: float = DEADLINE,  # noqa: ASYNC109
) -> list[Tracked]:
    """One started, caught-up ``Client`` per profile, sharing one change event."""
    tracked: list[Tracked] = []
    changed = asyncio.Event()
    for profile in profiles:
        client = Client(
            profile,
            client_name=f"faults-{profile.user}",
            prefetch=prefetch,
            backoff=fast_backoff(),
        )
        item = Tracked(profile.user, client, changed=changed)
        client.subscribe(item.on_event)
        tracked.append(item)
    async with asyncio.timeout(timeout):
        await asyncio.gather(*(item.client.start() for item in tracked))
    return tracked


def cached_messages(cache_path: Path, room: int) -> list[Row]:
    """A room as a client's cache file holds it, in seq order."""
    uri = f"{cache_path.resolve().as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute(
            "SELECT seq, author, body, client_msg_id FROM messages WHERE room = ? ORDER BY seq",
            (room,),
        ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


def describe(clients: Iterable[Tracked], room: int) -> str:
    """Where each client stands, for a failure's message."""
    return "; ".join(
        f"{t.name}: acked {len(t.acked)}, outbox {t.client.outbox.pending_count()}, "
        f"synced {t.client.cache.synced_seq(room)}, connection {t.client.state.connection}"
        for t in clients
    )
