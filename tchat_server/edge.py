"""What the network edge takes from the settings: the TLS context for ``wss://``, and
the real client address behind trusted reverse proxies (for rate limits and logs).

No websockets here: the transport hands in the peer address and the header value.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable

from tchat_server.config import ServerConfig
from tchat_server.settings import ConfigError

__all__ = ["TrustedProxies", "tls_context"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def tls_context(config: ServerConfig) -> ssl.SSLContext | None:
    """A server TLS context (TLS 1.2 or newer) from ``tls_cert``/``tls_key``, or None.

    Raises:
        ConfigError: the certificate or key cannot be read or do not match.
    """
    if config.tls_cert is None or config.tls_key is None:
        return None
    for key, path in (("tls_cert", config.tls_cert), ("tls_key", config.tls_key)):
        if not path.is_file():
            raise ConfigError(f"{key}: {path} does not exist (or is not a file)")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"tls_cert, tls_key: cannot load {config.tls_cert} with {config.tls_key} "
            f"(PEM certificate chain and its private key, unencrypted): {exc}"
        ) from None
    return context


class TrustedProxies:
    """Believes ``X-Forwarded-For`` only from the configured proxies.

    The header is read from the right (the hop nearest to us): trusted proxies are
    skipped, and the first address that is not one of them is the client. A client
    cannot spoof its address by sending the header itself, since its own entry is
    to the left of the one the trusted proxy appends.
    """

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in networks
        )

    def __bool__(self) -> bool:
        return bool(self._networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address, given the socket's peer and the header's value."""
        if not self._networks or not forwarded_for or not self._trusted(_address(peer)):
            return peer
        candidate = peer
        for hop in reversed(forwarded_for.split(",")):
            address = _address(hop.strip())
            if address is None:
                break  # not an address: believe nothing further left
            candidate = str(address)
            if not self._trusted(address):
                break
        return candidate

    def _trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self._networks)


def _address(text: str) -> Address | None:
    """An IP address from a peer or header entry (``[v6]:port`` and ``v4:port`` too)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
