"""Many provider calls in flight from one thread: providers' plain code, aiohttp underneath.

Providers are written once, as ordinary synchronous code against an httpx-like client
(`request(method, url, **kwargs) -> httpx.Response`, see `wire.send`). That suits the web
pages and tasks, which make one call at a time. The dispatcher must keep hundreds of
publishes in flight at the top of the hour, and a thread per call with httpx costs about
1 ms of CPU per request, which caps one process near 600 requests a second.

`AsyncHTTP.call(fn, ...)` runs a provider call in a greenlet on the event loop. Each
request it makes switches back to the loop, which sends it with aiohttp (about 0.2 ms of
CPU, including the httpx request and response objects the provider builds and reads) and
switches the answer, or the fault as httpx's own exception, back in. The provider cannot
tell the difference, so its error mapping and idempotency rules hold unchanged. This is
the bridge SQLAlchemy's asyncio extension uses to run its synchronous core on a loop.

Code running inside `call` must not block: no database queries (Django raises
SynchronousOnlyOperation there, which is the guard we want) and no sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiohttp
import greenlet
import httpx

from chorus.core import egress

T = TypeVar("T")


def run_to_completion(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `main()` on a fresh event loop in a thread of its own and return its result.

    For synchronous callers: unlike `asyncio.run`, it works even where the calling thread
    already runs a loop (a Playwright or notebook session), and the loop's code can never
    reach the caller's database connection.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="event-loop") as pool:
        return pool.submit(asyncio.run, main()).result()


class LoopClient:
    """What a provider gets as its `http` inside `AsyncHTTP.call`."""

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Encode the request as httpx would, then let the event loop send it.

        `kwargs` are httpx.Request's (params, headers, json, data, files, content); timeouts
        are the session's, and redirects are never followed, as providers expect.
        """
        request = httpx.Request(method, url, **kwargs)
        current = greenlet.getcurrent()
        if current.parent is None:
            raise RuntimeError("LoopClient.request is only usable inside AsyncHTTP.call")
        return current.parent.switch(request)


class AsyncHTTP:
    """An aiohttp session that runs synchronous provider code; open it on the loop."""

    def __init__(self, *, connections: int, timeout: float = 30.0):
        self.connections = connections
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 10.0))
        self.tls = httpx.create_ssl_context()  # the same CA bundle as httpx's clients
        self.client = LoopClient()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AsyncHTTP:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=self.connections,
                limit_per_host=0,
                ssl=self.tls,
                ttl_dns_cache=300,
                resolver=egress.GuardedResolver(),  # checked answers only, pinned
            ),
            timeout=self.timeout,
            auto_decompress=False,  # httpx.Response decodes the body itself
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` (which uses `self.client`) until it returns; raises what it raises."""
        child = greenlet.greenlet(fn)
        value = child.switch(*args)
        while not child.dead:
            try:
                response = await self._send(value)
            except httpx.TransportError as exc:
                value = child.throw(exc)
            else:
                value = child.switch(response)
        return value

    async def _send(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            raise RuntimeError("AsyncHTTP is not open; use `async with`")
        try:
            egress.check_url(request.url)  # IP literals skip the resolver
        except egress.AddressRefused as exc:
            raise httpx.ConnectError(egress.REFUSED, request=request) from exc
        try:
            async with self._session.request(
                request.method,
                str(request.url),
                data=request.read() or None,
                headers=request.headers.multi_items(),
                allow_redirects=False,
            ) as answer:
                body = await answer.read()
        except TimeoutError as exc:  # aiohttp's timeouts derive from it
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, egress.AddressRefused):
                raise httpx.ConnectError(egress.REFUSED, request=request) from exc
            raise httpx.ConnectError(str(exc), request=request) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        return httpx.Response(
            answer.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.raw_headers],
            content=body,
            request=request,
        )
