"""What exactly-once costs on Facebook and Instagram, whose Graph API has no idempotency key.

After an uncertain outcome the dispatcher asks `find_published`, which reads the Page's or
account's recent posts back to the first attempt. This prints, against the network
emulator (own process, `--latency-ms` per request), the time of a publish and of a
reconciliation that finds the post, and of one that does not (it reads until the posts are
older than the attempt), as p50/p95 over `--posts` posts, and their ratio to a publish.
Instagram publishes a JPEG through the container flow, fetched by the emulator from a local
stand-in for the site address.

    python bench/meta_reconcile.py --posts 200 --latency-ms 50
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), "orange").save(out, "JPEG")
    return out.getvalue()


def _site(jpeg: bytes) -> ThreadingHTTPServer:
    """The site address as Instagram sees it: every path answers the JPEG."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(jpeg)))
            self.end_headers()
            self.wfile.write(jpeg)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else []
    p95 = cuts[94] if cuts else ordered[0]
    return f"p50 {statistics.median(ordered) * 1000:7.1f}  p95 {p95 * 1000:7.1f}"


def _timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()

    jpeg = _jpeg()
    site = _site(jpeg)
    from chorus.testing.emulator import EmulatorServer
    from chorus.testing.emulator_meta import meta_settings

    with EmulatorServer(process=True, latency=args.latency_ms, rate_limit=None) as emulator:
        from django.conf import settings

        settings.configure(
            SECRET_KEY="bench",
            SITE_URL=f"http://127.0.0.1:{site.server_port}",
            CHORUS_META_GRAPH_VERSION="v23.0",
            **meta_settings(emulator.base_url),
        )
        emulator._call("POST", "meta/configure", json={"quota_total": 10 * args.posts + 10})
        from chorus.networks.providers.base import Media, PostDraft
        from chorus.networks.providers.facebook import Facebook
        from chorus.networks.providers.instagram import Instagram
        from chorus.networks.providers.meta_graph import (
            exchange_code_for_user_token,
            managed_accounts,
        )

        with httpx.Client(timeout=30) as http:
            app = Facebook.register_app("", redirect_uri="https://bench/cb", http=http)
            dialog = http.get(Facebook.authorization_url(app, state="s")).text
            code = dialog.split("code=", 1)[1].split("&", 1)[0]
            choices = managed_accounts(
                exchange_code_for_user_token(app, code, http=http), http=http
            )
            page = Facebook(
                next(c for c in choices if c.provider == "facebook").credentials, http=http
            )
            insta = Instagram(
                next(c for c in choices if c.provider == "instagram").credentials, http=http
            )
            media = Media(jpeg, "image/jpeg", filename="bench.jpg")
            for name, provider, media_items in (
                ("facebook", page, ()),
                ("instagram", insta, (media,)),
            ):
                publish, found, missed = [], [], []
                for n in range(args.posts):
                    since = datetime.now(UTC) - timedelta(seconds=1)
                    draft = PostDraft(
                        text=f"post {n}", idempotency_key=f"{name}-{n}", media=media_items
                    )
                    took, _ = _timed(provider.publish, draft)
                    publish.append(took)
                    took, hit = _timed(provider.find_published, draft, since=since)
                    assert hit is not None
                    found.append(took)
                    other = PostDraft(
                        text=f"never sent {n}", idempotency_key="x", media=media_items
                    )
                    took, miss = _timed(provider.find_published, other, since=since)
                    assert miss is None
                    missed.append(took)
                base = statistics.median(publish)
                print(f"{name:9} ({args.posts} posts, emulator latency {args.latency_ms:g} ms) ms")
                print(f"  publish                 {_ms(publish)}")
                for label, values in (("found", found), ("not there", missed)):
                    ratio = statistics.median(values) / base
                    print(f"  reconcile, {label:12} {_ms(values)}  x{ratio:.2f} of a publish")
            stats = emulator.stats()
            print(f"emulator requests {stats['requests']}, posts created {stats['posts_created']}")
    site.shutdown()


if __name__ == "__main__":
    main()
