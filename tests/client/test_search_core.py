"""``Client.search`` against a real server: pages of 100 joined up to ``limit``,
newest first, and refusals as ``RequestFailed``."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import ErrorCode
from tchat_client.core import Client, ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.core.errors import RequestFailed
from tests.conftest import PASSWORD
from tests.server.util import FAST, StartServer, post_many, room_id


async def test_search_pages_past_one_answer_and_refuses_bad_queries(
    start_server: StartServer, tmp_path: Path
) -> None:
    srv = await start_server(**FAST)
    await srv.user("alice")
    await srv.user("bob")
    bob = await srv.connect("bob")
    await post_many(bob, room_id(bob), 130, "needle")
    store = ProfileStore(tmp_path / "config", tmp_path / "data")
    profile = await sign_in(store, srv.url, "alice", PASSWORD)
    async with Client(profile, prefetch=False) as client:
        found = await client.search("needle", limit=120)
        assert [m.body for m in found] == [f"needle message {n}" for n in range(129, 9, -1)]
        rest = await client.search("needle", limit=50, before_id=found[-1].id)
        assert [m.body for m in rest] == [f"needle message {n}" for n in range(9, -1, -1)]
        with pytest.raises(RequestFailed) as refused:
            await client.search("after:someday")
        assert refused.value.code == ErrorCode.QUERY_INVALID
        with pytest.raises(RequestFailed) as hidden:
            await client.search("in:nowhere needle")
        assert hidden.value.code == ErrorCode.ROOM_NOT_FOUND
