"""How many publishes a second the network emulator sustains at a given latency.

The emulator runs in its own process; this one drives it with `--concurrency` keep-alive
connections, each posting `POST /api/v1/statuses` (a new account every `--accounts` posts)
back to back until `--requests` are done. `--client raw` writes HTTP/1.1 by hand so that the
figure is the emulator's, not the client library's; `--client httpx` shows what one Python
process with httpx can push.

    python bench/emulator_throughput.py --requests 20000 --concurrency 400 --latency-ms 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from chorus.testing.emulator import EmulatorServer  # noqa: E402


async def _raw_worker(host: str, port: int, jobs: list[int], accounts: int) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        for n in jobs:
            body = json.dumps({"status": f"post {n}"}).encode()
            head = (
                f"POST /api/v1/statuses HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer acct{n % accounts}\r\nIdempotency-Key: p{n}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if status_line.split()[1] != b"200":
                raise RuntimeError(f"post {n}: {status_line!r}")
            done += 1
    finally:
        writer.close()
    return done


async def _httpx_worker(base_url: str, tls: ssl.SSLContext, jobs: list[int], accounts: int) -> int:
    async with httpx.AsyncClient(base_url=base_url, timeout=60, verify=tls) as client:
        for n in jobs:
            response = await client.post(
                "/api/v1/statuses",
                json={"status": f"post {n}"},
                headers={"Authorization": f"Bearer acct{n % accounts}", "Idempotency-Key": f"p{n}"},
            )
            response.raise_for_status()
    return len(jobs)


async def _drive(base_url: str, args: argparse.Namespace) -> int:
    shares = [list(range(i, args.requests, args.concurrency)) for i in range(args.concurrency)]
    if args.client == "raw":
        url = urlsplit(base_url)
        assert url.hostname is not None and url.port is not None
        workers = [_raw_worker(url.hostname, url.port, jobs, args.accounts) for jobs in shares]
        return sum(await asyncio.gather(*workers))
    tls = ssl.create_default_context()  # built once: each client would load certifi again
    workers = [_httpx_worker(base_url, tls, jobs, args.accounts) for jobs in shares]
    return sum(await asyncio.gather(*workers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=400)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    args = parser.parse_args()

    with EmulatorServer(process=True, latency=args.latency_ms, rate_limit=None) as emulator:
        started = time.perf_counter()
        done = asyncio.run(asyncio.wait_for(_drive(emulator.base_url, args), timeout=600))
        elapsed = time.perf_counter() - started
        stats = emulator.stats()
    ideal = args.concurrency / (args.latency_ms / 1000) if args.latency_ms else float("inf")
    print(
        f"client={args.client} concurrency={args.concurrency} latency={args.latency_ms:g}ms "
        f"requests={done} seconds={elapsed:.2f} requests/s={done / elapsed:,.0f} "
        f"(ceiling at this concurrency {ideal:,.0f}/s) "
        f"emulator: posts={stats['posts_created']} max_in_flight={stats['max_in_flight']}"
    )


if __name__ == "__main__":
    main()
