"""Smoke tests of the benchmark harness (no timing assertions: benchmarks are not
tests). The lean load-generator client against the real server and the relay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from bench.procs import ServerProc
from bench.report import table
from bench.scenarios import Result
from bench.wsclient import Stats, open_client
from shared.frames import MessagePosted
from tests.conftest import Running


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_the_bench_client_speaks_the_protocol_to_tchat(
    start_server: Callable[..., Awaitable[Running]],
) -> None:
    srv = await start_server()
    await srv.user("alice")
    await srv.user("bob")
    reader = await srv.connect("bob")
    auth = await srv.services.accounts.login("alice", "correct horse battery", "127.0.0.1", "b")
    room = (await srv.services.rooms.room_infos(auth.user.id))[0].id
    stats = Stats()
    hello = json.dumps({"type": "hello", "protocol": 1, "token": auth.token}).encode()
    client = await open_client(
        "127.0.0.1", srv.server.port, "/", hello, stats, probe=True, marker=b'"body":"b1 '
    )
    await asyncio.wait_for(client.ready, 10)
    stats.sampling = True
    for n in range(5):
        body = f"b1 {n} hi"
        client.send(
            json.dumps(
                {"type": "send", "client_msg_id": f"c{n}", "room": room, "body": body}
            ).encode()
        )
    await _until(lambda: client.echoes == 5)
    assert stats.deliveries == 5 and stats.errors == 0
    assert len(stats.latencies_ns) == 5
    for n in range(5):  # the test client (which reads batches too) sees them in order
        posted = await reader.expect(MessagePosted)
        assert posted.message.body == f"b1 {n} hi"
    client.close()
    await asyncio.wait_for(client.closed, 10)


async def test_the_relay_broadcasts_to_its_path_only() -> None:
    relay = ServerProc("relay")
    try:
        stats = Stats()
        first = b'{"type":"hello"}'
        a = await open_client("127.0.0.1", relay.port, "/r1", first, stats, marker=b'"body":"b1 ')
        b = await open_client("127.0.0.1", relay.port, "/r1", first, stats)
        other = Stats()
        c = await open_client("127.0.0.1", relay.port, "/r2", first, other)
        for client in (a, b, c):
            await asyncio.wait_for(client.ready, 10)
        a.send(b'{"type":"send","room":1,"body":"b1 0 x"}')
        await _until(lambda: stats.deliveries == 2)
        await asyncio.sleep(0.1)
        assert a.echoes == 1 and other.deliveries == 0
        for client in (a, b, c):
            client.close()
        await asyncio.wait_for(asyncio.gather(a.closed, b.closed, c.closed), 10)
    finally:
        relay.stop()


def test_the_table_names_the_baseline_and_the_ratio() -> None:
    result = Result("fanout_1000", "deliveries/s", 150.0, 100.0, "deliveries/s", "relay")
    text = table([result], {"date": "today", "cores": 2})
    assert "| fanout_1000 | deliveries/s | 150.0 | 100.0 | 1.50x |" in text
    assert result.as_dict()["ratio"] == 1.5


def test_paced_runs_send_the_whole_rate_wherever_the_senders_are() -> None:
    """A fan-out's few senders can all sit on one load generator: that one must
    pace the whole rate (an even split across workers once halved it)."""
    from bench.procs import LoadGen
    from bench.scenarios import Bench, hello

    lg = LoadGen(2, None)
    bench = Bench(lg, None, quick=True)
    try:
        with bench.server("relay") as relay:
            specs = [
                {"id": i, "first": hello("x"), "path": "/p", "sender": i % 2 == 1}
                for i in range(1, 9)
            ]  # round-robin over two workers: every sender lands on the first
            bench.connect(relay.port, specs)
            assert bench.senders_per_worker == [4, 0]
            result = bench.run("paced", warmup=0.2, duration=1.0, rate=100.0, server=relay)
    finally:
        lg.close()
        bench.close()
    # ~120 messages over the warm-up and the window; the old split sent ~60.
    assert 90 <= result["sent"] <= 150
    assert result["server_cpu_us_per_delivery"] >= 0.0
