"""Seed a benchmark database: users with session tokens, rooms, members, messages.

The schema comes from the server's own migrations (``Database.open``); rows are
then written with plain ``sqlite3`` in a few big transactions, which takes seconds
where going through the services (argon2, one transaction per row) would take hours.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from tchat_server.storage.db import Database
from tchat_server.storage.users import hash_secret

__all__ = ["Seeded", "seed", "seed_messages"]

WORDS = [
    "the",
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
    "latency",
    "queue",
    "socket",
    "commit",
    "index",
    "search",
    "page",
    "history",
    "python",
    "asyncio",
    "sqlite",
    "frame",
    "batch",
    "relay",
    "backlog",
    "cache",
    "memory",
    "profile",
    "release",
    "lunch",
    "coffee",
    "meeting",
    "standup",
    "docs",
]
RARE = "zebra"
"""A word in about one message in ten thousand: a search with few hits."""


@dataclass
class Seeded:
    db_path: Path
    epoch: str
    tokens: list[str]
    """tokens[i] belongs to user i + 1."""
    rooms: list[int]


async def _migrate(db_path: Path) -> str:
    db = await Database.open(db_path)
    try:
        return db.epoch
    finally:
        await db.close()


def seed(data_dir: Path, users: int, rooms: list[list[int]]) -> Seeded:
    """``users`` accounts (ids 1..users) and one channel per entry of ``rooms``,
    each listing its members' 1-based user numbers."""
    db_path = data_dir / "tchat.db"
    epoch = asyncio.run(_migrate(db_path))
    nonce = secrets.token_hex(4)
    tokens = [f"bench-{nonce}-{i:06d}" for i in range(1, users + 1)]
    now = time.time()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO users(id, name, skeleton, password_hash, created_at) VALUES (?,?,?,?,?)",
            [(i, f"u{i:05d}", f"u{i:05d}", "!", now) for i in range(1, users + 1)],
        )
        conn.executemany(
            "INSERT INTO tokens(hash, user_id, client, created_at, last_used_at) "
            "VALUES (?,?,?,?,?)",
            [(hash_secret(t), i, "bench", now, now) for i, t in enumerate(tokens, 1)],
        )
        room_ids: list[int] = []
        for n, members in enumerate(rooms):
            cursor = conn.execute(
                "INSERT INTO rooms(kind, name, name_key, created_at) VALUES ('channel',?,?,?)",
                (f"bench{n}", f"bench{n}", now),
            )
            room_id = int(cursor.lastrowid or 0)
            room_ids.append(room_id)
            conn.executemany(
                "INSERT INTO members(room_id, user_id, joined_at) VALUES (?,?,?)",
                [(room_id, uid, now) for uid in members],
            )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return Seeded(db_path, epoch, tokens, room_ids)


_INSERT = (
    "INSERT INTO messages(id, room_id, seq, author_id, client_msg_id, body, created_at) "
    "VALUES (?,?,?,?,?,?,?)"
)
"""Named columns: later migrations add columns (with defaults) to ``messages``."""


def seed_messages(db_path: Path, room_ids: list[int], count: int, seed_: int = 7) -> None:
    """``count`` messages spread over the rooms (FTS kept in step by the triggers)."""
    rng = random.Random(seed_)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        seqs = dict.fromkeys(room_ids, 0)
        base = time.time() - count
        batch: list[tuple[object, ...]] = []
        conn.execute("BEGIN")
        for n in range(1, count + 1):
            room = room_ids[n % len(room_ids)]
            seqs[room] += 1
            words = [rng.choice(WORDS) for _ in range(rng.randint(4, 16))]
            if n % 10_000 == 0:
                words.append(RARE)
            batch.append((n, room, seqs[room], 1, f"seed-{n}", " ".join(words), base + n))
            if len(batch) == 20_000:
                conn.executemany(_INSERT, batch)
                batch.clear()
        if batch:
            conn.executemany(_INSERT, batch)
        conn.executemany(
            "UPDATE rooms SET latest_seq = ? WHERE id = ?", [(s, r) for r, s in seqs.items()]
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
