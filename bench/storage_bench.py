"""History pages and newest-first search on a seeded database, timed query by query.

``python -m bench.storage_bench DB ROOMS`` prints JSON. "page" goes through the
server's own ``MessageStore.page`` (aiosqlite reader thread, row objects); the
storage layer has no search method yet, so "search" runs the FTS5 query newest-first
(``ORDER BY rowid DESC``) through the server's reader connection
(``Database.fetch_all``). Each has a baseline: the same SQL on a plain synchronous
``sqlite3`` connection in the same process, which is the floor the storage layer
adds its thread hop and row building to.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tchat_server.storage.db import Database
from tchat_server.storage.messages import MessageStore

ROUNDS = 400
PAGE_SQL = (
    "SELECT m.id, m.room_id, m.seq, m.author_id, u.name AS author, m.client_msg_id, m.body, "
    "m.created_at FROM messages m JOIN users u ON u.id = m.author_id WHERE m.room_id = ? "
    "AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
)
SEARCH_SQL = (
    "SELECT m.id, m.room_id, m.seq, u.name AS author, m.body, m.created_at "
    "FROM messages_fts f JOIN messages m ON m.id = f.rowid JOIN users u ON u.id = m.author_id "
    "WHERE messages_fts MATCH ? ORDER BY f.rowid DESC LIMIT 50"
)
SEARCH_ROOMS_SQL = (
    "SELECT m.id, m.room_id, m.seq, u.name AS author, m.body, m.created_at "
    "FROM messages_fts f JOIN messages m ON m.id = f.rowid JOIN users u ON u.id = m.author_id "
    "WHERE messages_fts MATCH ? AND m.room_id IN ({rooms}) ORDER BY f.rowid DESC LIMIT 50"
)


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "n": len(ordered),
    }


async def _timed_async(make: Callable[[], Awaitable[Any]], rounds: int) -> dict[str, float]:
    for _ in range(20):
        await make()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await make()
        samples.append(time.perf_counter() - started)
    return _stats(samples)


def _timed_sync(run: Callable[[], Any], rounds: int) -> dict[str, float]:
    for _ in range(20):
        run()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return _stats(samples)


def _search(db: Database, term: str) -> Callable[[], Awaitable[Any]]:
    return lambda: db.fetch_all(SEARCH_SQL, (term,))


def _search_raw(raw: sqlite3.Connection, term: str) -> Callable[[], Any]:
    return lambda: raw.execute(SEARCH_SQL, (term,)).fetchall()


async def main_async(db_path: Path, rooms: list[int]) -> dict[str, Any]:
    rng = random.Random(3)
    db = await Database.open(db_path)
    raw = sqlite3.connect(db_path)
    try:
        store = MessageStore(db)
        latest = {
            r: int(raw.execute("SELECT latest_seq FROM rooms WHERE id=?", (r,)).fetchone()[0])
            for r in rooms
        }

        def pick() -> tuple[int, int]:
            room = rng.choice(rooms)
            return room, rng.randint(2, latest[room])

        out: dict[str, Any] = {}

        async def page() -> Any:
            room, before = pick()
            return await store.page(room, before=before, limit=50)

        out["page"] = await _timed_async(page, ROUNDS)
        out["page_raw"] = _timed_sync(
            lambda: raw.execute(PAGE_SQL, (*pick(), 51)).fetchall(), ROUNDS
        )
        for name, term in (
            ("common", "deploy"),
            ("two_words", "deploy latency"),
            ("rare", "zebra"),
        ):
            out[f"search_{name}"] = await _timed_async(_search(db, term), ROUNDS // 2)
            out[f"search_{name}_raw"] = _timed_sync(_search_raw(raw, term), ROUNDS // 2)
        some = ",".join(str(r) for r in rooms[:5])
        sql = SEARCH_ROOMS_SQL.format(rooms=some)
        out["search_common_5_of_100_rooms"] = await _timed_async(
            lambda: db.fetch_all(sql, ("deploy",)), ROUNDS // 2
        )
        out["search_common_5_of_100_rooms_raw"] = _timed_sync(
            lambda: raw.execute(sql, ("deploy",)).fetchall(), ROUNDS // 2
        )
        return out
    finally:
        raw.close()
        await db.close()


def main() -> None:
    db_path = Path(sys.argv[1])
    rooms = [int(r) for r in sys.argv[2].split(",")]
    print(json.dumps(asyncio.run(main_async(db_path, rooms))))


if __name__ == "__main__":
    main()
