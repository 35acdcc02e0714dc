"""A signed-in profile whose cache holds a small world, for pictures that must not
change: the app opens it with ``connect=False`` (no server, nothing live).

``#general`` is plain conversation; ``#dev`` has what changes after a message is
stored: a thread (a parent with three replies), reactions, an edited message, a
tombstone, a reply to it, and a file card."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tchat_client.core import ProfileStore
from tchat_client.core.cache import Cache
from tchat_client.core.models import FileCard, Message, ReactionCount, ReplyPreview, Room
from tchat_client.core.outbox import Outbox

os.environ["TZ"] = "UTC"
time.tzset()

DAY_ONE = datetime(2025, 3, 3, 9, 0, tzinfo=UTC).timestamp()
"""Monday 3 March 2025, 09:00 UTC: far enough back that day labels are dates."""

ROOMS = [
    # Channels alert on mentions by default (as the server sets new memberships).
    Room(
        1,
        "general",
        "channel",
        "Company-wide chatter · be kind :)",
        6,
        8,
        5,
        3,
        1,
        notify="mentions",
    ),
    Room(2, "dev", "channel", "Code, reviews and CI", 5, 8, 8, notify="mentions"),
    Room(3, "ops", "channel", "Deploys and alerts", 3, 2, 0, 2, notify="mentions"),
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


DEV_START = DAY_ONE + 3 * 3600
"""#dev's conversation starts at noon on day one."""

_PR = "Pushed the reconnect fix, can someone review? PR #412"
_PARENT = ReplyPreview(2, "bob", _PR)


def _dev(seq: int, author: str, body: str, minutes: float, **changes: Any) -> Message:
    return Message(2, seq, author, body, DEV_START + minutes * 60, f"dev{seq}", 8 + seq, **changes)


DEV = [
    _dev(
        1,
        "carol",
        "CI is green again :green_heart:",
        0,
        reactions=(ReactionCount("💚", ("alice", "sam")), ReactionCount("🎉", ("bob",))),
    ),
    _dev(2, "bob", _PR, 3, reply_count=3),
    _dev(3, "alice", "Looking now: the backoff change looks right", 5, reply_to=2, reply=_PARENT),
    _dev(
        4,
        "sam",
        "I'll run the storm test against it tonight",
        6,
        reply_to=2,
        reply=_PARENT,
        edited=DEV_START + 420,
    ),
    _dev(5, "dave", "", 9, deleted=True),
    _dev(6, "carol", "what did it say?", 10, reply_to=5, reply=ReplyPreview(5, "dave", "", True)),
    _dev(
        7,
        "bob",
        "numbers from last night",
        14,
        file=FileCard(1, "reconnect-storm.pdf", 1_258_291, "application/pdf"),
        reactions=(ReactionCount("👀", ("sam", "carol")),),
    ),
    _dev(8, "sam", "Approved :white_check_mark:", 16, reply_to=2, reply=_PARENT),
]
"""#dev: room 2, seqs 1-8."""


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
        messages.extend(DEV)
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
