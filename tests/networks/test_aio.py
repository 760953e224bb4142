"""The event-loop path: unchanged providers, their HTTP sent by aiohttp on the loop."""

import gzip
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from chorus.networks.providers.aio import AsyncHTTP, LoopClient, run_to_completion
from chorus.networks.providers.base import PostDraft, Transient
from chorus.networks.providers.mastodon import Mastodon
from chorus.networks.providers.wire import send
from chorus.testing.emulator import EmulatorServer


def on_loop(fn, *args, **options):
    async def run():
        async with AsyncHTTP(connections=4, **options) as http:
            return await http.call(fn, http.client, *args)

    return run_to_completion(run)


@pytest.fixture(scope="module")
def emulator():
    with EmulatorServer(process=False, latency=0, rate_limit=None) as server:
        yield server


def test_a_provider_publishes_through_the_loop_exactly_as_with_httpx(emulator):
    credentials = emulator.mastodon_credentials("loop-token")

    def publish(http, key):
        return Mastodon(credentials, http=http).publish(PostDraft("ສະບາຍດີ from the loop", key))

    first = on_loop(publish, "loop-key")
    again = on_loop(publish, "loop-key")  # the Idempotency-Key header went out as given
    assert first.ref.remote_id == again.ref.remote_id
    events = [e for e in emulator.events() if e["key"] == "loop-key"]
    assert len(events) == 1 and events[0]["text"] == "ສະບາຍດີ from the loop"


def test_unreachable_server_raises_the_providers_transient():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Transient, match="could not reach"):
        on_loop(lambda http: send(http, "GET", f"http://127.0.0.1:{port}/api/v1/instance"))


def test_slow_server_times_out_as_transient(emulator):
    emulator.configure(latency=1500)
    try:
        with pytest.raises(Transient, match="did not answer in time"):
            on_loop(
                lambda http: send(
                    http,
                    "GET",
                    f"{emulator.base_url}/api/v1/accounts/verify_credentials",
                    headers={"Authorization": "Bearer slow-token"},
                ),
                timeout=0.5,
            )
    finally:
        emulator.configure(latency=0)


class Gzipped(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        seen = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = gzip.compress(json.dumps({"echo": seen, "ua": self.headers["Accept"]}).encode())
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_bodies_headers_and_compressed_answers_survive_the_bridge():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gzipped)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/echo"
        response = on_loop(
            lambda http: send(http, "POST", url, json={"text": "Ճ ខ្មែរ"}, headers={"Accept": "x/y"})
        )
    finally:
        server.shutdown()
    assert isinstance(response, httpx.Response) and response.status_code == 201
    assert response.json() == {"echo": {"text": "Ճ ខ្មែរ"}, "ua": "x/y"}


def test_the_loop_client_refuses_use_outside_the_loop():
    with pytest.raises(RuntimeError, match="only usable inside"):
        LoopClient().request("GET", "http://127.0.0.1/")
