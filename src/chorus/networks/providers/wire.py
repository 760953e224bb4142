"""HTTP plumbing every provider shares: one request with typed faults, Retry-After parsing."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from chorus.networks.providers.base import Transient


def send(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request; network faults become Transient (messages never carry headers)."""
    host = urlsplit(url).netloc
    try:
        return http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise Transient(f"{host} did not answer in time") from exc
    except httpx.TransportError as exc:
        raise Transient(f"could not reach {host} ({type(exc).__name__})") from exc


def seconds_to_wait(
    reset: datetime | None, retry_after: str, *, now: datetime, default: float
) -> float:
    """How long to wait: until the rate-limit window resets, else Retry-After (seconds or an
    HTTP date), else `default`; never less than one second."""
    if reset is not None:
        return max(1.0, (reset - now).total_seconds())
    value = retry_after.strip()
    if value:
        try:
            return max(1.0, float(value))
        except ValueError:
            try:
                return max(1.0, (parsedate_to_datetime(value) - now).total_seconds())
            except (TypeError, ValueError):
                pass
    return default
