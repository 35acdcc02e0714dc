"""A signed-in profile whose cache holds a small world, for pictures that must not
change: the app opens it with ``connect=False`` (no server, nothing live)."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from tchat_client.core import ProfileStore
from tchat_client.core.cache import Cache
from tchat_client.core.models import Message, Room
from tchat_client.core.outbox import Outbox

os.environ["TZ"] = "UTC"
time.tzset()

DAY_ONE = datetime(2025, 3, 3, 9, 0, tzinfo=UTC).timestamp()
"""Monday 3 March 2025, 09:00 UTC: far enough back that day labels are dates."""

ROOMS = [
    Room(1, "general", "channel", "Company-wide chatter · be kind :)", 6, 8, 5, 3, 1),
    Room(2, "dev", "channel", "Code, reviews and CI", 5, 2, 2),
    Room(3, "ops", "channel", "Deploys and alerts", 3, 2, 0, 2),
    Room(4, "core-team", "group", "Planning", 3, 1, 1),
    Room(5, "dm:alice:sam", "dm", "", 2, 1, 0, 1, 0, dm_user="alice"),
]

GENERAL = [
    ("alice", "Morning all :sunny: standup moved to **10:30** today"),
    ("bob", "thanks! I'll bring the release notes"),
    ("carol", "Checklist before the freeze:\n1. green CI\n2. changelog\n3. migration tested"),
    ("sam", "On it :eyes:"),
    ("alice", "@sam did the reconnect storm numbers come back?"),
    ("sam", "5,000 clients resumed in **3.1 s** :tada:"),
    ("dave", "> 5,000 clients resumed in 3.1 s\n\nthat's lovely"),
    ("bob", "the trick:\n```python\nasync def drain(queue):\n    return [await queue.get()]\n```"),
]


def offline_store(root: Path, *, queued: str | None = None) -> tuple[ProfileStore, str]:
    """A profile store with one profile (user ``sam``) whose cache holds the world."""
    store = ProfileStore(root / "config", root / "data")
    profile = store.save("ws://127.0.0.1:9", "sam")
    profile.save_token("not-a-real-token")
    cache = Cache(profile.cache_path)
    try:
        cache.set_identity("epoch-1", "sam")
        cache.replace_rooms(ROOMS)
        messages = [
            Message(1, seq, author, body, DAY_ONE + seq * 600, f"c{seq}", seq)
            for seq, (author, body) in enumerate(GENERAL, start=1)
        ]
        messages.append(Message(2, 1, "carol", "CI is green again :green_heart:", DAY_ONE, "d1", 9))
        cache.add_messages(messages)
    finally:
        cache.close()
    if queued is not None:
        outbox = Outbox(profile.outbox_path)
        try:
            entry = outbox.add("#general", queued, room_id=1, epoch="epoch-1")
        finally:
            outbox.close()
        with sqlite3.connect(profile.outbox_path) as db:
            db.execute(
                "UPDATE outbox SET created_at = ? WHERE client_msg_id = ?",
                (DAY_ONE + 9 * 600, entry.client_msg_id),
            )
    return store, profile.name
