"""How fast the inbox readers are: Bluesky's chat log against the emulator, Mastodon's
event-stream parsing, and the thread-root memo's saving in context requests.

    .venv/bin/python bench/inbox_read.py --messages 2000

Prints p50/p95 of one chat read (up to `max_pages` log pages of 100), events parsed per
second against a bare `json.loads` baseline, and context requests per poll against one
per reply (replies in a thread already resolved cost no request).
"""

from __future__ import annotations

import argparse
import json
import time

import httpx
import respx

from chorus.networks.providers.base import Credentials
from chorus.networks.providers.bluesky import Bluesky
from chorus.networks.providers.bluesky_chat import Chat
from chorus.networks.providers.mastodon import Mastodon
from chorus.networks.providers.mastodon_streaming import parse_events
from chorus.testing.emulator import EmulatorServer


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def chat_reads(messages: int) -> None:
    with EmulatorServer(process=True, rate_limit=None) as emulator, httpx.Client() as http:
        brand = Bluesky(emulator.bluesky_credentials("brand.test"), http=http)
        fan = Bluesky(emulator.bluesky_credentials("fan.test"), http=http)
        convo = fan.chat_call(
            "chat.bsky.convo.getConvoForMembers", params={"members": [brand.did]}
        )["convo"]["id"]
        _, cursor = Chat(brand).read(None, max_pages=10)
        timings, seen = [], 0
        for start in range(0, messages, 200):
            for n in range(start, min(start + 200, messages)):
                body = {"convoId": convo, "message": {"text": f"message {n}"}}
                fan.chat_call("chat.bsky.convo.sendMessage", body=body)
            began = time.perf_counter()
            items, cursor = Chat(brand).read(cursor, max_pages=10)
            timings.append((time.perf_counter() - began) * 1000)
            seen += len(items)
        print(f"chat: {seen}/{messages} messages read in {len(timings)} reads of 200")
        print(
            f"chat read (200 messages, 2 log pages): p50 {percentile(timings, 0.5):.1f} ms, "
            f"p95 {percentile(timings, 0.95):.1f} ms"
        )


def sse_parsing(events: int) -> None:
    payload = json.dumps({"id": "1", "type": "mention", "status": {"content": "x" * 400}})
    lines = []
    for _ in range(events):
        lines += ["event: notification", f"data: {payload}", "", ":thump", ""]
    began = time.perf_counter()
    parsed = sum(1 for event in parse_events(lines) if json.loads(event.data))
    ours = time.perf_counter() - began
    began = time.perf_counter()
    for _ in range(events):
        json.loads(payload)
    baseline = time.perf_counter() - began
    print(
        f"sse: {parsed / ours:,.0f} events/s parsed and decoded; json.loads alone "
        f"{events / baseline:,.0f}/s (ratio {ours / baseline:.2f}x)"
    )


def root_memo(replies: int, parents: int) -> None:
    """The real provider over respx: `replies` replies spread over `parents` threads."""
    server = "https://social.example"
    fan = {"id": "8", "acct": "fan@else.example"}
    notifications = [
        {
            "id": str(n + 1),
            "type": "mention",
            "created_at": "2026-01-02T03:04:05Z",
            "account": fan,
            "status": {
                "id": str(1000 + n),
                "created_at": "2026-01-02T03:04:05Z",
                "content": "<p>hi</p>",
                "visibility": "public",
                "account": fan,
                # the first reply in each thread answers our post, later ones answer it
                "in_reply_to_id": str(1000 + n % parents) if n >= parents else str(n + 1),
                "in_reply_to_account_id": "8" if n >= parents else "7",
            },
        }
        for n in range(replies)
    ]
    with respx.mock(base_url=server) as api, httpx.Client() as http:
        api.get("/api/v1/notifications").respond(200, json=notifications)
        context = api.get(path__regex=r"/api/v1/statuses/\d+/context").mock(
            side_effect=lambda request: httpx.Response(
                200, json={"ancestors": [{"id": "1"}], "descendants": []}
            )
        )
        credentials = Credentials(
            identity={"server_url": server, "account_id": "7"}, secrets={"access_token": "t"}
        )
        began = time.perf_counter()
        page = Mastodon(credentials, http=http).fetch_interactions()
        took = (time.perf_counter() - began) * 1000
    print(
        f"mastodon roots: {len(page.items)} replies in {parents} threads cost "
        f"{context.call_count} context requests (one per reply would be {replies}: "
        f"{replies / max(context.call_count, 1):.0f}x fewer), mapped in {took:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    chat_reads(args.messages)
    sse_parsing(args.events)
    root_memo(200, 10)


if __name__ == "__main__":
    main()
