"""Prometheus metrics of one server, served on its own port at ``/metrics``.

Each server has its own registry (tests run several in one process). Counting is
cheap on the hot paths: label children are looked up once per frame type and
cached, and an outgoing frame's type is read from its first bytes (the codec writes
``{"type":"...`` first) rather than by decoding it.
"""

from __future__ import annotations

import hmac
import http
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

__all__ = ["LOGIN_FAILURE_REASONS", "ServerMetrics"]

LOGIN_FAILURE_REASONS = (
    "auth_failed",
    "token_invalid",
    "account_disabled",
    "throttled",
    "username_invalid",
    "username_taken",
    "password_invalid",
    "invite_invalid",
    "registration_closed",
)
"""Error codes of a refused first frame, shown at 0 before they first happen."""

_TYPE_PREFIX = b'{"type":"'
_TYPE_START = len(_TYPE_PREFIX)
_TYPES = re.compile(rb'\{"type":"([^"]{1,32})"')

# Latency buckets in seconds: a commit is an fsync (ms); a fan-out only queues (µs).
_COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_FANOUT_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.1)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class ServerMetrics:
    """The server's counters, gauges and histograms, and the ``/metrics`` answer."""

    def __init__(self, token: str | None = None) -> None:
        self._token = token
        registry = self.registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        self.connections = Gauge(
            "tchat_connections", "Open WebSocket connections.", registry=registry
        )
        self.connections_opened = Counter(
            "tchat_connections_opened", "WebSocket connections accepted.", registry=registry
        )
        self.sessions = Gauge(
            "tchat_sessions", "Authenticated sessions (connections past login).", registry=registry
        )
        self.frames_received = Counter(
            "tchat_frames_received",
            "Frames received, by type (invalid: refused by the codec).",
            ["type"],
            registry=registry,
        )
        self._sent_counts: dict[bytes, int] = {}
        """Frames written, by type: plain ints on the hot path (a labelled Counter
        takes a lock per ``inc``: a third of the server's CPU when 5,000 members
        came online and each batch held dozens of presence frames), read at scrape."""
        registry.register(_SentFrames(self._sent_counts))
        self.messages_stored = Counter(
            "tchat_messages_stored", "Messages committed (repeats excluded).", registry=registry
        )
        self.commit_seconds = Histogram(
            "tchat_commit_seconds",
            "Duration of one group commit (a transaction storing a batch of messages).",
            buckets=_COMMIT_BUCKETS,
            registry=registry,
        )
        self.commit_batch = Histogram(
            "tchat_commit_batch_size",
            "Messages per group commit.",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.fanout_seconds = Histogram(
            "tchat_fanout_seconds",
            "Time to encode a stored message and queue it to every online member's sessions.",
            buckets=_FANOUT_BUCKETS,
            registry=registry,
        )
        self.rate_limited = Counter(
            "tchat_rate_limited",
            "Refusals by a rate limit (frames: per connection; logins: the login throttle).",
            ["limit"],
            registry=registry,
        )
        self.login_failures = Counter(
            "tchat_login_failures",
            "First frames (hello, login, register) refused, by error code.",
            ["reason"],
            registry=registry,
        )
        for limit in ("frames", "logins"):
            self.rate_limited.labels(limit)
        for reason in LOGIN_FAILURE_REASONS:
            self.login_failures.labels(reason)
        self._received: dict[type, Any] = {}
        self._invalid = self.frames_received.labels("invalid")
        self._frames_limited = self.rate_limited.labels("frames")

    # ----------------------------------------------------------- recording

    def count_sessions(self, count: Callable[[], int]) -> None:
        """Read the number of sessions from ``count`` at each scrape."""
        self.sessions.set_function(lambda: float(count()))

    @contextmanager
    def connection(self) -> Iterator[None]:
        """Count a WebSocket connection while it is open."""
        self.connections_opened.inc()
        self.connections.inc()
        try:
            yield
        finally:
            self.connections.dec()

    def frame_in(self, frame: object) -> None:
        kind = type(frame)
        child = self._received.get(kind)
        if child is None:
            tag = getattr(getattr(kind, "__struct_config__", None), "tag", None)
            child = self._received[kind] = self.frames_received.labels(str(tag or "other"))
        child.inc()

    def frame_invalid(self) -> None:
        self._invalid.inc()

    def frame_out(self, data: bytes) -> None:
        """Count the frames in one WebSocket message: a frame object, or a batch (a
        JSON array of them). ``{"type":"`` cannot occur inside an encoded string
        (its quotes would be escaped), and only frames have a ``type`` field."""
        counts = self._sent_counts
        if data.startswith(_TYPE_PREFIX):
            end = data.find(b'"', _TYPE_START)
            kind = data[_TYPE_START:end] if 0 < end - _TYPE_START <= 32 else b"other"
            counts[kind] = counts.get(kind, 0) + 1
            return
        kinds = _TYPES.findall(data) if data.startswith(b"[") else []
        for kind in kinds or (b"other",):
            counts[kind] = counts.get(kind, 0) + 1

    def frame_rate_limited(self) -> None:
        self._frames_limited.inc()

    def login_failed(self, reason: str) -> None:
        self.login_failures.labels(reason).inc()
        if reason == "throttled":
            self.rate_limited.labels("logins").inc()

    def observe_commit(self, seconds: float, batch: int) -> None:
        self.commit_seconds.observe(seconds)
        self.commit_batch.observe(batch)

    def stored(self, count: int, fanout_seconds: list[float]) -> None:
        self.messages_stored.inc(count)
        for seconds in fanout_seconds:
            self.fanout_seconds.observe(seconds)

    # ---------------------------------------------------------------- HTTP

    def exposition(self, accept: str | None, authorization: str | None) -> tuple[int, str, bytes]:
        """The answer to ``GET /metrics``: (status, content type, body)."""
        if self._token is not None:
            scheme, _, given = (authorization or "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), self._token.encode()
            ):
                return http.HTTPStatus.UNAUTHORIZED, "text/plain; charset=utf-8", b"unauthorized\n"
        encoder, content_type = choose_encoder(accept or "")
        return http.HTTPStatus.OK, content_type, encoder(self.registry)


class _SentFrames(Collector):
    """``tchat_frames_sent_total`` by type, from the plain counts ``frame_out`` keeps."""

    def __init__(self, counts: dict[bytes, int]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "tchat_frames_sent", "Frames written to sockets, by type.", labels=["type"]
        )
        for kind, count in sorted(self._counts.items()):
            family.add_metric([kind.decode("ascii", "replace")], count)
        yield family
