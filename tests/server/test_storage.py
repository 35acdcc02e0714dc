"""The storage under concurrency: a read issued after a commit sees that commit."""

from __future__ import annotations

import asyncio
import sqlite3
from importlib import resources
from pathlib import Path

from tchat_server.app import open_services
from tchat_server.config import Argon2Params, ServerConfig
from tchat_server.storage.db import SCHEMA_VERSION
from tchat_server.storage.messages import NewMessage
from tests.conftest import Running


async def test_reads_see_every_commit_that_finished_before_them(srv: Running) -> None:
    """Other reads in flight on the reader connection must not pin an old snapshot
    (that made a just-created DM room invisible, and can hide acked messages)."""
    await srv.user("alice")
    user = await srv.services.users.get_by_name("alice")
    assert user is not None
    db, store = srv.services.db, srv.services.message_store
    general = (await db.fetch_one("SELECT id FROM rooms WHERE name = 'general'"))[0]
    stop = asyncio.Event()

    async def keep_reading() -> None:
        while not stop.is_set():
            await db.fetch_all("SELECT * FROM messages ORDER BY id")

    readers = [asyncio.create_task(keep_reading()) for _ in range(3)]
    try:
        for n in range(1, 201):
            await store.add_batch([NewMessage(general, user.id, f"c{n}", f"body {n}", "alice")])
            row = await db.fetch_one("SELECT count(*) FROM messages")
            assert row is not None and row[0] == n
            page, _ = await store.page(general, limit=1)
            assert page[0].seq == n
    finally:
        stop.set()
        await asyncio.gather(*readers)


async def test_a_version_1_database_is_migrated_and_keeps_its_users(tmp_path: Path) -> None:
    """Migration 0002 (case-insensitive names) on a database made by schema 1, with a
    non-ASCII name that SQLite's lower() cannot fold."""
    path = tmp_path / "tchat.db"
    first = (resources.files("tchat_server.storage") / "migrations" / "0001_init.sql").read_text()
    with sqlite3.connect(path) as db:
        db.executescript(first + "\nPRAGMA user_version = 1;")
        db.execute(
            "INSERT INTO users(name, skeleton, password_hash, created_at) VALUES (?, ?, 'x', 0)",
            ("Émile", "emlle"),
        )
    services = await open_services(ServerConfig(data_dir=tmp_path, argon2=Argon2Params.cheap()))
    try:
        row = await services.db.fetch_one("PRAGMA user_version")
        assert row is not None and row[0] == SCHEMA_VERSION >= 2
        found = await services.users.get_by_name("ÉMILE")
        assert found is not None and found.name == "Émile"
    finally:
        await services.close()
