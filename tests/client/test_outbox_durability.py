"""Nothing typed is lost, nothing is stored twice: the outbox across a server
that is down, and a client killed between writing the outbox and the ack."""

from __future__ import annotations

import json
import signal
from collections.abc import Awaitable, Callable

import pytest

from tests.client.conftest import Cli, eventually
from tests.client.proxy import Proxy
from tests.conftest import Running

Start = Callable[..., Awaitable[Running]]


async def _bodies(srv: Running, room: int = 1) -> list[str]:
    rows, _ = await srv.services.message_store.page(room, limit=200)
    return [row.body for row in rows]


async def test_queued_while_down_then_one_flush(
    start_server: Start, proxy_to: Callable[[Running], Awaitable[Proxy]], cli: Callable[[str], Cli]
) -> None:
    first = await start_server()
    await first.user("alice")
    proxy = await proxy_to(first)
    alice = cli("alice")
    await alice.login(proxy.url, "alice")
    await first.stop()

    for n in range(1, 4):
        await alice.ok("send", "--queue", "#general", f"queued {n}")
    down = await alice.run("flush", "--timeout", "5")
    assert down.code == 4, down.err
    assert [e["body"] for e in json.loads((await alice.ok("outbox", "--json")).out)] == [
        "queued 1",
        "queued 2",
        "queued 3",
    ]

    second = await start_server()  # the same database, on a new port behind the proxy
    proxy.retarget(second.server.port)
    flushed = await alice.ok("flush")
    assert "sent 3" in flushed.err
    assert await _bodies(second) == ["queued 1", "queued 2", "queued 3"]
    assert json.loads((await alice.ok("outbox", "--json")).out) == []
    await alice.ok("flush")
    assert await second.services.message_store.count() == 3


@pytest.mark.parametrize("upstream", [False, True], ids=["server-stored-it", "server-never-saw-it"])
async def test_killed_before_the_ack_is_stored_once(
    srv: Running,
    proxy_to: Callable[[Running], Awaitable[Proxy]],
    cli: Callable[[str], Cli],
    upstream: bool,
) -> None:
    await srv.user("alice")
    proxy = await proxy_to(srv)
    alice = cli("alice")
    await alice.login(proxy.url, "alice")
    # Let the handshake and the resume through, then withhold the answers (and, in
    # the second case, the client's frames too).
    proxy.hold_after(b'"type":"resumed"', upstream=upstream)

    sender = await alice.spawn("send", "#general", "exactly once")
    if upstream:
        await proxy.wait_for(lambda: proxy.held_up > 0)
    else:

        async def stored() -> bool:
            return await srv.services.message_store.count(1) == 1

        await eventually(stored)
    sender.send_signal(signal.SIGKILL)
    assert await sender.wait() == -signal.SIGKILL
    assert await srv.services.message_store.count(1) == (0 if upstream else 1)

    proxy.hold_after(None)
    await alice.ok("flush")
    assert await _bodies(srv) == ["exactly once"]
    assert json.loads((await alice.ok("outbox", "--json")).out) == []


async def test_send_without_queue_fails_cleanly_when_down(
    start_server: Start, proxy_to: Callable[[Running], Awaitable[Proxy]], cli: Callable[[str], Cli]
) -> None:
    srv = await start_server()
    await srv.user("alice")
    proxy = await proxy_to(srv)
    alice = cli("alice")
    await alice.login(proxy.url, "alice")
    await srv.stop()

    result = await alice.run("send", "#general", "not now")
    assert result.code == 4
    assert result.err.count("\n") == 1 and "was not sent" in result.err
    assert json.loads((await alice.ok("outbox", "--json")).out) == []


async def test_retrying_with_an_id_stores_once(srv: Running, cli: Callable[[str], Cli]) -> None:
    await srv.user("alice")
    alice = cli("alice")
    await alice.login(srv.url, "alice")
    acks = [
        json.loads(
            (await alice.ok("send", "--id", "deploy-42", "--json", "#general", "deployed")).out
        )
        for _ in range(2)
    ]
    assert [a["duplicate"] for a in acks] == [False, True] and acks[0]["seq"] == acks[1]["seq"]
    assert await _bodies(srv) == ["deployed"]
