"""Outgoing requests to addresses users chose: public internet only, pinned to what was checked.

A workspace admin types a Mastodon server or a Bluesky service URL; a DID document names a
PDS; later features fetch link previews, call webhooks or download media. Each of those is an
address someone other than the operator chose, so Chorus must never be turned into a proxy
onto its own machine or network (loopback ports, the cloud metadata service at
169.254.169.254, private ranges).

The rule, applied where the socket is opened rather than to the URL's text:

- the host name is resolved once; every answer must be a public unicast address (no loopback,
  private, shared, link-local, multicast, reserved or unspecified address, in IPv4 or IPv6,
  IPv4-mapped, 6to4 and NAT64 forms judged by the IPv4 address they carry); if any answer is
  refused the request is refused;
- the connection goes to the address that was checked, so a DNS answer that changes between
  the check and the connect (rebinding) cannot redirect it; TLS still verifies the host name
  (SNI and the Host header are the name, only the socket's peer is pinned);
- redirects are never followed by these clients; a caller that follows one makes a new request
  through the same guard;
- a refusal raises the same connection error, with the same neutral text, whatever is (or is
  not) behind the address, so error messages cannot map the internal network.

`settings.CHORUS_OUTBOUND_ALLOW` lists explicit exceptions for local test servers: an IP
address or network (`127.0.0.1`, `10.1.0.0/16`), optionally with a port (`127.0.0.1:8765`,
`[::1]:8765`), a host name with an optional port (`pds.test:2583`), or a URL whose host and
port are taken (`http://127.0.0.1:8765`). It is empty unless the operator sets
`CHORUS_OUTBOUND_ALLOW`; the test suite, the emulator and the demo sandbox add their own.

Used by `chorus.networks.http.client()` (httpx, for the web app, tasks and connect flows) and
by the dispatcher's aiohttp session (`networks.providers.aio`).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import aiohttp.abc
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The neutral text of every refusal: it names no address, port, reason or service.
REFUSED = "address not reachable from this server"

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# IANA special-purpose blocks, listed here too so the rule does not depend on which Python
# patch release's `is_global` tables are installed.
_SPECIAL = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
        "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7",
        "fe80::/10", "fec0::/10",
    )
)  # fmt: skip


class AddressRefused(OSError):
    """The address is not one Chorus may contact on a user's behalf."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


def is_public(address: IPAddress) -> bool:
    """True for a public unicast internet address; embedded IPv4 forms are judged by it."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address.sixtofour is not None:
            return is_public(address.sixtofour)
        if address.teredo is not None:
            return False  # a tunnel endpoint: where it leads cannot be judged here
        if any(address in network for network in _NAT64):
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if int(address) >> 32 == 0:
            return False  # ::/96, IPv4-compatible (deprecated) and the unspecified address
    if any(address.version == block.version and address in block for block in _SPECIAL):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0].strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class AllowEntry:
    """One entry of CHORUS_OUTBOUND_ALLOW: an IP network or a host name, maybe a port."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    name: str
    port: int | None

    @classmethod
    def parse(cls, entry: str) -> AllowEntry:
        text = entry.strip()
        if "://" in text:
            parts = urlsplit(text)
            host, port = parts.hostname or "", parts.port
            if port is None:
                port = {"http": 80, "https": 443}.get(parts.scheme.lower())
        else:
            try:  # a bare IP address or network (IPv6 contains colons)
                return cls(ipaddress.ip_network(text, strict=False), "", None)
            except ValueError:
                pass
            host, port = text, None
            head, sep, tail = text.rpartition(":")
            if sep and tail.isdigit():
                host, port = head, int(tail)
        host = host.strip("[]").lower()
        if not host:
            raise ValueError(f"{entry!r} names no host")
        try:
            return cls(ipaddress.ip_network(host, strict=False), "", port)
        except ValueError:
            return cls(None, host.rstrip("."), port)

    def allows(self, host: str, port: int, address: IPAddress) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address.version == self.network.version and address in self.network
        return host.lower().rstrip(".") == self.name


def exceptions() -> list[AllowEntry]:
    """The configured exceptions, read at call time (tests and settings may change them),
    and the sandbox network's address when Chorus itself started one (`chorus run` sets
    CHORUS_SANDBOX_URL once the sandbox listens)."""
    from django.conf import settings

    if not settings.configured:
        return []
    entries = list(getattr(settings, "CHORUS_OUTBOUND_ALLOW", []))
    if sandbox := getattr(settings, "CHORUS_SANDBOX_URL", ""):
        entries.append(sandbox)
    return [AllowEntry.parse(entry) for entry in entries]


def allowed(host: str, port: int, address: IPAddress) -> bool:
    """May Chorus connect to `address` for a request to `host`:`port`?"""
    return is_public(address) or any(e.allows(host, port, address) for e in exceptions())


def resolve(host: str, port: int) -> list[str]:
    """The checked addresses for `host` (resolved once); AddressRefused if any is refused."""
    literal = _ip(host)
    if literal is not None:
        answers = [str(literal)]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise AddressRefused() from exc
        answers = list(dict.fromkeys(str(info[4][0]) for info in infos))
    check_answers(host, port, answers)
    return answers


def check_answers(host: str, port: int, answers: list[str]) -> None:
    if not answers:
        raise AddressRefused()
    for answer in answers:
        address = _ip(answer)
        if address is None or not allowed(host, port, address):
            raise AddressRefused()


# --------------------------------------------------------------------------- httpx (sync)


class _PinnedBackend(httpcore.SyncBackend):
    """httpcore's socket layer, connecting only to checked addresses.

    The connection pool, TLS (SNI and certificate checks against the host name) and the
    Host header all keep the name; only the TCP peer is the checked address.
    """

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except AddressRefused as exc:
            raise httpcore.ConnectError(REFUSED) from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(REFUSED)

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError(REFUSED)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over the pinned socket layer; no proxies, no Unix sockets (the
    client that uses it sets trust_env=False, so no proxy comes from the environment)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        ssl_context = httpx.create_ssl_context()  # httpx's CA bundle (and SSL_CERT_FILE)
        limits = kwargs.get(
            "limits", httpx.Limits(max_connections=100, max_keepalive_connections=20)
        )
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(),
        )


# --------------------------------------------------------------------------- aiohttp


class GuardedResolver(aiohttp.abc.AbstractResolver):
    """aiohttp's resolver, keeping only checked answers: aiohttp connects to exactly these
    addresses and uses the host name for TLS and the Host header."""

    def __init__(self, inner: aiohttp.abc.AbstractResolver | None = None) -> None:
        self._inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[dict[str, Any]]:
        try:
            answers = await self._inner.resolve(host, port, family)
        except OSError as exc:
            raise AddressRefused() from exc
        check_answers(host, port, [answer["host"] for answer in answers])
        return answers

    async def close(self) -> None:
        await self._inner.close()


def check_url(url: httpx.URL) -> None:
    """Refuse a URL whose scheme is not HTTP(S) or whose host is a refused IP literal.

    aiohttp skips the resolver for IP literals, so these are checked here; names are checked
    by GuardedResolver when aiohttp resolves them.
    """
    if url.scheme not in ("http", "https"):
        raise AddressRefused()
    port = url.port or (443 if url.scheme == "https" else 80)
    literal = _ip(url.host)
    if literal is not None:
        check_answers(url.host, port, [str(literal)])
