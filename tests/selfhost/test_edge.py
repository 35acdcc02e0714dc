"""The network edge: wss:// with a self-signed certificate, and the real client
address behind a trusted proxy (for the login throttle and the logs)."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from websockets.exceptions import InvalidMessage

from shared.errors import CloseCode, ErrorCode
from shared.frames import PROTOCOL_VERSION, Ack, Error, Login, Send, Welcome
from tchat_server.config import ServerConfig
from tchat_server.edge import TrustedProxies, tls_context
from tchat_server.settings import ConfigError
from tests.conftest import PASSWORD, Running
from tests.selfhost.conftest import Certificate, Spawn, http_get, server_env
from tests.wire import Wire

StartServer = Callable[..., Awaitable[Running]]


async def test_wss_with_a_self_signed_certificate(
    start_server: StartServer, certificate: Certificate
) -> None:
    srv = await start_server(tls_cert=certificate.cert, tls_key=certificate.key)
    await srv.user("alice")
    url = f"wss://127.0.0.1:{srv.server.port}"

    wire = await Wire.open(url, ssl=certificate.client_context())
    srv.wires.append(wire)
    await wire.send(Login(protocol=PROTOCOL_VERSION, username="alice", password=PASSWORD))
    welcome = await wire.expect(Welcome)
    general = next(r.id for r in welcome.rooms if r.name == "general")
    await wire.send(Send(client_msg_id="tls-1", body="over TLS", room=general))
    ack = await wire.expect(Ack)
    assert (ack.client_msg_id, ack.seq) == ("tls-1", 1)

    # Health over HTTPS on the same port.
    status, _, body = await http_get(srv.server.port, "/healthz", tls=certificate.client_context())
    assert (status, body) == (200, "ok\n")
    # A client that does not trust the certificate is refused by its own TLS check.
    with pytest.raises(ssl.SSLCertVerificationError):
        await Wire.open(url, ssl=ssl.create_default_context())
    # Plain ws:// to the TLS port gets no WebSocket.
    with pytest.raises((InvalidMessage, ConnectionError, EOFError)):
        await Wire.open(url.replace("wss://", "ws://"), open_timeout=5)


async def test_the_served_banner_says_wss(
    tmp_path: Path, spawn: Spawn, certificate: Certificate
) -> None:
    env = server_env(tls_cert=str(certificate.cert), tls_key=str(certificate.key))
    server = await spawn(tmp_path / "data", env=env)
    assert server.url.startswith("wss://127.0.0.1:")
    status, _, _ = await http_get(server.port, "/readyz", tls=certificate.client_context())
    assert status == 200


def test_unloadable_certificates_are_refused_naming_the_keys(
    tmp_path: Path, certificate: Certificate
) -> None:
    missing = ServerConfig(tls_cert=tmp_path / "none.pem", tls_key=certificate.key)
    with pytest.raises(ConfigError, match=r"tls_cert: .*none\.pem does not exist"):
        tls_context(missing)
    swapped = ServerConfig(tls_cert=certificate.key, tls_key=certificate.cert)
    with pytest.raises(ConfigError, match="tls_cert, tls_key: cannot load"):
        tls_context(swapped)
    assert tls_context(ServerConfig()) is None


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("127.0.0.1", None, "127.0.0.1"),
        # The client's own header entry is left of what the proxy appended.
        ("127.0.0.1", "1.2.3.4, 203.0.113.5", "203.0.113.5"),
        # Chained trusted proxies are skipped from the right.
        ("127.0.0.1", "203.0.113.5, 10.0.0.7", "203.0.113.5"),
        ("127.0.0.1", "10.0.0.8, 10.0.0.7", "10.0.0.8"),
        ("127.0.0.1", "garbage", "127.0.0.1"),
        ("127.0.0.1", "[2001:db8::1]:4711", "2001:db8::1"),
        ("::ffff:127.0.0.1", "203.0.113.9", "203.0.113.9"),
        # Not from a trusted proxy: the header is the client's word, ignored.
        ("198.51.100.1", "203.0.113.5", "198.51.100.1"),
    ],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    peer: str, header: str | None, expected: str
) -> None:
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert proxies.client(peer, header) == expected
    assert TrustedProxies([]).client(peer, header) == peer


async def failed_login(url: str, address: str, user: str = "alice") -> Error:
    wire = await Wire.open(url, additional_headers={"X-Forwarded-For": address})
    try:
        await wire.send(Login(protocol=PROTOCOL_VERSION, username=user, password="wrong password"))
        error = await wire.expect(Error)
        closed = await wire.wait_closed()
        assert closed.rcvd is not None and closed.rcvd.code == CloseCode.AUTH_FAILED
        return error
    finally:
        await wire.close()


@pytest.mark.parametrize("trusted", [True, False])
async def test_the_login_throttle_and_logs_use_the_real_address(
    start_server: StartServer, caplog: pytest.LogCaptureFixture, trusted: bool
) -> None:
    srv = await start_server(
        trusted_proxies=("127.0.0.0/8",) if trusted else (),
        login_attempts_per_address=2,
        login_attempts_per_account=100,
    )
    await srv.user("alice")
    caplog.set_level(logging.INFO, logger="tchat.server")
    for _ in range(2):
        assert (await failed_login(srv.url, "203.0.113.5")).code == ErrorCode.AUTH_FAILED
    assert (await failed_login(srv.url, "203.0.113.5")).code == ErrorCode.THROTTLED

    # Another client behind the same proxy: throttled only if the proxy is not trusted.
    wire = await Wire.open(srv.url, additional_headers={"X-Forwarded-For": "203.0.113.6"})
    srv.wires.append(wire)
    await wire.send(Login(protocol=PROTOCOL_VERSION, username="alice", password=PASSWORD))
    if trusted:
        assert (await wire.expect(Welcome)).user.name == "alice"
    else:
        assert (await wire.expect(Error)).code == ErrorCode.THROTTLED

    refused = [r for r in caplog.records if getattr(r, "event", None) == "login_failed"]
    addresses = {getattr(r, "address", None) for r in refused}
    assert addresses == ({"203.0.113.5"} if trusted else {"127.0.0.1"})
    assert [getattr(r, "code", None) for r in refused][:3] == [
        "auth_failed",
        "auth_failed",
        "throttled",
    ]
    assert all("wrong password" not in r.getMessage() for r in caplog.records)
