"""``/metrics`` on the server's port: Prometheus text that prometheus-client's own
parser reads, counting exactly what the test did."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from shared.codec import encode
from shared.errors import ErrorCode
from shared.frames import (
    PROTOCOL_VERSION,
    Ack,
    Error,
    Login,
    MessageInfo,
    MessagePosted,
    Ping,
    Pong,
    Send,
)
from tchat_server.metrics import ServerMetrics
from tests.conftest import Running
from tests.selfhost.conftest import http_get
from tests.wire import Wire

StartServer = Callable[..., Awaitable[Running]]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(srv: Running, headers: dict[str, str] | None = None) -> Samples:
    status, head, body = await http_get(srv.server.port, "/metrics", headers)
    assert status == 200, body
    assert head["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_metrics_count_what_happened(start_server: StartServer) -> None:
    # Five frames a connection, then refusals: the flood below is rate limited.
    srv = await start_server(rate_per_second=0.001, rate_burst=5, flood_disconnect_after=100)
    for name in ("alice", "bob", "carol"):
        await srv.user(name)
    before = await scrape(srv)
    assert value(before, "tchat_connections") == 0
    assert value(before, "tchat_messages_stored_total") == 0
    assert value(before, "tchat_login_failures_total", reason="auth_failed") == 0

    # One failed login.
    bad = await Wire.open(srv.url)
    await bad.send(Login(protocol=PROTOCOL_VERSION, username="alice", password="not it"))
    assert (await bad.expect(Error)).code == ErrorCode.AUTH_FAILED
    await bad.wait_closed()

    alice = await srv.connect("alice")
    bob = await srv.connect("bob")
    carol = await srv.connect("carol")
    assert alice.welcome is not None
    general = next(r.id for r in alice.welcome.rooms if r.name == "general")
    for n in range(3):
        await alice.send(Send(client_msg_id=f"m{n}", body=f"hello {n}", room=general))
    for n in range(3):
        await alice.find(Ack, where=lambda a, n=n: a.client_msg_id == f"m{n}")
    for wire in (alice, bob, carol):
        for n in range(3):
            await wire.find(MessagePosted, where=lambda p, n=n: p.message.seq == n + 1)
    # Carol floods: five pings pass, three are refused.
    for n in range(8):
        await carol.send(Ping(rid=f"p{n}"))
    for n in range(5, 8):
        await carol.find(Error, where=lambda e, n=n: e.rid == f"p{n}")
    assert len(carol.seen(Pong)) == 5

    after = await scrape(srv)
    assert value(after, "tchat_connections") == 3
    assert value(after, "tchat_sessions") == 3
    assert value(after, "tchat_connections_opened_total") == 4
    assert value(after, "tchat_login_failures_total", reason="auth_failed") == 1
    assert value(after, "tchat_frames_received_total", type="login") == 4
    assert value(after, "tchat_frames_received_total", type="send") == 3
    assert value(after, "tchat_frames_received_total", type="ping") == 5
    assert value(after, "tchat_rate_limited_total", limit="frames") == 3
    assert value(after, "tchat_rate_limited_total", limit="logins") == 0
    assert value(after, "tchat_messages_stored_total") == 3
    assert value(after, "tchat_frames_sent_total", type="welcome") == 3
    assert value(after, "tchat_frames_sent_total", type="ack") == 3
    assert value(after, "tchat_frames_sent_total", type="message_posted") == 9
    assert value(after, "tchat_frames_sent_total", type="pong") == 5
    assert value(after, "tchat_frames_sent_total", type="error") == 4  # 3 + the failed login
    assert value(after, "tchat_fanout_seconds_count") == 3
    assert value(after, "tchat_fanout_seconds_sum") > 0
    commits = value(after, "tchat_commit_seconds_count")
    assert 1 <= commits <= 3
    assert value(after, "tchat_commit_batch_size_sum") == 3
    assert value(after, "tchat_commit_seconds_bucket", le="+Inf") == commits
    assert value(after, "process_resident_memory_bytes") > 0

    await carol.close()
    srv.wires.remove(carol)
    # The gauges follow the close once the server's handler has ended (a ping to
    # alice is the barrier between scrapes; no sleeping).
    for _ in range(50):
        samples = await scrape(srv)
        if value(samples, "tchat_connections") == 2:
            break
        await alice.send(Ping(rid="sync"))
        await alice.expect(Pong, where=lambda p: p.rid == "sync")
    assert value(samples, "tchat_connections") == 2
    assert value(samples, "tchat_sessions") == 2


async def test_metrics_token_is_required_when_set(start_server: StartServer) -> None:
    srv = await start_server(metrics_token="scrape-me")
    status, _, body = await http_get(srv.server.port, "/metrics")
    assert (status, body) == (401, "unauthorized\n")
    status, _, _ = await http_get(srv.server.port, "/metrics", {"Authorization": "Bearer wrong"})
    assert status == 401
    samples = await scrape(srv, {"Authorization": "Bearer scrape-me"})
    assert value(samples, "tchat_connections") == 0


async def test_openmetrics_when_asked(start_server: StartServer) -> None:
    srv = await start_server()
    accept = {"Accept": "application/openmetrics-text; version=1.0.0"}
    status, head, body = await http_get(srv.server.port, "/metrics", accept)
    assert status == 200 and head["content-type"].startswith("application/openmetrics-text")
    assert body.rstrip().endswith("# EOF")


def test_sent_frames_are_counted_inside_batches() -> None:
    metrics = ServerMetrics()
    metrics.frame_out(encode(Pong(ts=1.0)))
    posted = encode(
        MessagePosted(
            message=MessageInfo(
                room=1, seq=1, id=1, author="a", body='{"type":"ack"}', ts=1.0, client_msg_id="c"
            )
        )
    )
    metrics.frame_out(b"[" + b",".join([posted, encode(Pong(ts=2.0)), posted]) + b"]")
    metrics.frame_out(b"not a frame")
    samples = {
        (s.name, tuple(s.labels.items())): s.value
        for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        for s in family.samples
    }
    assert samples[("tchat_frames_sent_total", (("type", "pong"),))] == 2
    assert samples[("tchat_frames_sent_total", (("type", "message_posted"),))] == 2
    assert samples[("tchat_frames_sent_total", (("type", "other"),))] == 1
    assert ("tchat_frames_sent_total", (("type", "ack"),)) not in samples  # a body, not a frame
