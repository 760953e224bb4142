"""Server-side request forgery (issue 10.3): Chorus contacts only public addresses for users.

Only loopback may really be contacted from the tests: every other refused address is refused
before any socket is opened, which `no_sockets` proves by failing the test if one is.
"""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address

import aiohappyeyeballs
import httpx
import pytest

from chorus.config import ConfigError, outbound_allow
from chorus.core import egress
from chorus.networks import http, services
from chorus.networks.providers.aio import AsyncHTTP, run_to_completion

REFUSED = [
    "127.0.0.1", "127.8.9.10", "0.0.0.0", "10.0.0.1", "172.16.5.4", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "192.0.0.8", "198.18.0.1", "224.0.0.1",
    "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::127.0.0.1",
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1",
    "2001::1",
]  # fmt: skip
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1", "64:ff9b::101:101"]


@pytest.mark.parametrize("address", REFUSED)
def test_private_loopback_link_local_multicast_and_reserved_addresses_are_refused(address):
    assert not egress.is_public(ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert egress.is_public(ip_address(address))


@pytest.fixture
def no_allow(settings):
    settings.CHORUS_OUTBOUND_ALLOW = []


@pytest.fixture
def no_sockets(monkeypatch):
    """Record every TCP connection attempt (and make it fail): nothing leaves the machine."""
    attempts = []

    def refuse(address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError("test: no connections")

    async def refuse_async(addr_infos, *args, **kwargs):
        attempts.extend(info[4][:2] for info in addr_infos)
        raise ConnectionRefusedError("test: no connections")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(aiohappyeyeballs, "start_connection", refuse_async)  # aiohttp's
    return attempts


@pytest.fixture
def dns(monkeypatch):
    """Names under .test resolve to what the test says, one answer list per lookup."""
    answers: dict[str, list[list[str]]] = {}
    lookups = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".test"):
            lookups.append(host)
            script = answers[host]
            ips = script.pop(0) if len(script) > 1 else script[0]
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, port or 0),
                )
                for ip in ips
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    answers["lookups"] = lookups  # type: ignore[assignment]
    return answers


def _get(url: str, **kwargs) -> httpx.Response:
    with http.client() as client:
        return client.get(url, **kwargs)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1:6379/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00::1]:5432/",
        "http://0x7f000001/",  # 127.0.0.1 spelt as one hex number
        "http://2130706433/",  # ... and as one decimal number
    ],
)
def test_the_network_client_refuses_internal_addresses_before_connecting(url, no_allow, no_sockets):
    with pytest.raises(httpx.ConnectError, match=egress.REFUSED):
        _get(url)
    assert no_sockets == []


def test_a_name_resolving_to_a_private_address_is_refused(no_allow, no_sockets, dns):
    dns["inside.test"] = [["93.184.216.34", "10.1.2.3"]]  # one bad answer is enough
    with pytest.raises(httpx.ConnectError, match=egress.REFUSED):
        _get("https://inside.test/")
    assert no_sockets == []


def test_the_connection_goes_to_the_checked_address_when_dns_changes(no_allow, no_sockets, dns):
    """DNS rebinding: a public answer at the check, loopback just after. The socket must
    go to the address that was checked, not to a second lookup's answer."""
    dns["rebind.test"] = [["93.184.216.34"], ["127.0.0.1"]]
    with pytest.raises(httpx.ConnectError):
        _get("https://rebind.test/")
    assert no_sockets == [("93.184.216.34", 443)]
    assert dns["lookups"] == ["rebind.test"]


class _Redirect(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def redirector():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_redirects_are_not_followed_and_refused_when_a_caller_follows_them(
    settings, redirector, monkeypatch
):
    settings.CHORUS_OUTBOUND_ALLOW = [redirector]  # exactly this local server, this port
    assert _get(redirector).status_code == 302  # never followed by itself
    attempts = []
    real = socket.create_connection

    def record(address, *args, **kwargs):
        attempts.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", record)
    with pytest.raises(httpx.ConnectError, match=egress.REFUSED):
        _get(redirector, follow_redirects=True)
    assert [host for host, _port in attempts] == ["127.0.0.1"]  # the metadata address: never


def test_loopback_is_refused_unless_listed_and_a_listed_port_allows_only_that_port(
    settings, redirector
):
    settings.CHORUS_OUTBOUND_ALLOW = []
    with pytest.raises(httpx.ConnectError, match=egress.REFUSED):
        _get(redirector)
    port = int(redirector.rsplit(":", 1)[1])
    settings.CHORUS_OUTBOUND_ALLOW = [f"127.0.0.1:{port + 1}"]
    with pytest.raises(httpx.ConnectError, match=egress.REFUSED):
        _get(redirector)
    settings.CHORUS_OUTBOUND_ALLOW = [f"127.0.0.1:{port}"]
    assert _get(redirector).status_code == 302


def test_a_listed_host_name_keeps_its_name_in_the_host_header(settings, redirector, dns):
    port = int(redirector.rsplit(":", 1)[1])
    dns["sandbox.test"] = [["127.0.0.1"]]
    settings.CHORUS_OUTBOUND_ALLOW = [f"sandbox.test:{port}"]
    response = _get(f"http://sandbox.test:{port}/")
    assert response.status_code == 302
    assert response.request.headers["Host"] == f"sandbox.test:{port}"


def test_the_allow_list_setting_is_checked_at_startup(monkeypatch):
    monkeypatch.setenv("CHORUS_OUTBOUND_ALLOW", "127.0.0.1:8765, http://[::1]:9000, pds.test")
    assert outbound_allow("CHORUS_OUTBOUND_ALLOW") == [
        "127.0.0.1:8765",
        "http://[::1]:9000",
        "pds.test",
    ]
    monkeypatch.setenv("CHORUS_OUTBOUND_ALLOW", "http://:80")
    with pytest.raises(ConfigError, match="CHORUS_OUTBOUND_ALLOW"):
        outbound_allow("CHORUS_OUTBOUND_ALLOW")


# --------------------------------------------------------------------------- the dispatcher's path


def _on_loop(url: str):
    def fetch(client):
        return client.request("GET", url)

    async def run():
        async with AsyncHTTP(connections=2) as session:
            return await session.call(fetch, session.client)

    return run_to_completion(run)


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/", "http://[::ffff:10.0.0.1]/", "http://inside.test/"]
)
def test_the_event_loop_client_refuses_the_same_addresses(url, no_allow, no_sockets, dns):
    dns["inside.test"] = [["192.168.0.10"]]
    with pytest.raises(httpx.ConnectError, match=egress.REFUSED):
        _on_loop(url)
    assert no_sockets == []


def test_the_event_loop_client_connects_to_the_checked_addresses(no_allow, no_sockets, dns):
    dns["public.test"] = [["93.184.216.34"], ["127.0.0.1"]]
    with pytest.raises(httpx.ConnectError):
        _on_loop("http://public.test:8080/")
    assert no_sockets == [("93.184.216.34", 8080)]


def test_the_event_loop_client_refuses_loopback_unless_listed(settings, redirector):
    settings.CHORUS_OUTBOUND_ALLOW = []
    with pytest.raises(httpx.ConnectError, match=egress.REFUSED):
        _on_loop(redirector)
    settings.CHORUS_OUTBOUND_ALLOW = ["127.0.0.1"]
    assert _on_loop(redirector).status_code == 302


# --------------------------------------------------------------------------- the connect flows


@pytest.mark.django_db
def test_connecting_a_mastodon_server_on_internal_addresses_gives_one_neutral_error(
    owner, mastodon_server, no_allow, monkeypatch
):
    """A listening loopback service, a closed loopback port, the metadata service and a
    private address all answer the admin with the same words, naming only what they typed."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    attempts = []
    real = socket.create_connection
    monkeypatch.setattr(
        socket, "create_connection", lambda a, *r, **k: attempts.append(a) or real(a, *r, **k)
    )
    messages = []
    for server in (
        mastodon_server.base_url,
        f"http://127.0.0.1:{closed_port}",
        "http://169.254.169.254",
        "http://10.20.30.40:5432",
    ):
        with pytest.raises(services.ConnectFailed) as caught:
            services.oauth_begin(actor=owner, provider_key="mastodon", server_url=server)
        host = server.split("//", 1)[1]
        messages.append(caught.value.message.replace(host, "HOST"))
    assert len(set(messages)) == 1, messages
    assert attempts == []  # nothing was contacted, not even the live loopback server


@pytest.mark.django_db
def test_a_bluesky_service_url_on_an_internal_address_is_refused(owner, no_allow, no_sockets):
    messages = set()
    for service_url in ("http://169.254.169.254", "http://[::ffff:192.168.1.1]:2583"):
        with pytest.raises(services.ConnectFailed) as caught:
            services.account_connect_with_password(
                actor=owner,
                provider_key="bluesky",
                identifier="brand.example.com",
                password="app-password",
                service_url=service_url,
            )
        messages.add(caught.value.message.replace(service_url.split("//")[1], "HOST"))
    assert len(messages) == 1
    assert no_sockets == []
