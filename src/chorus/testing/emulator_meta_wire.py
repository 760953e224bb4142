"""Wire primitives of the emulator's Graph API (chorus.testing.emulator_meta): Meta's
error object, fault steps, Graph times, `fields` lists, form and multipart parameters, and
cursor paging (developers.facebook.com/docs/graph-api/results)."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs

from chorus.testing.emulator_answers import HtmlPage
from chorus.testing.emulator_http import Reply, _Request

VERSION_PATH = re.compile(r"^/v\d+\.\d+/")
PUBLISH_ROUTES = frozenset(
    {
        "meta.feed",
        "meta.photos",
        "meta.videos",
        "meta.comments.create",
        "meta.media_publish",
        "meta.replies.create",
    }
)


Html = HtmlPage  # the login dialog


class GraphError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        subcode: int | None = None,
        headers: list[tuple[str, str]] | None = None,
        **extra: Any,
    ):
        super().__init__(message)
        error: dict[str, Any] = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(8),
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        error.update(extra)
        self.reply: Reply = (status, {"error": error}, headers or [])


@dataclass
class MetaFault:
    route: str = "*"
    times: int = 1
    status: int = 400  # 0: answer normally (after delay_s)
    code: int = 2
    subcode: int | None = None
    message: str = "An unexpected error has occurred. Please retry your request later."
    is_transient: bool | None = None
    headers: dict[str, str] = field(default_factory=dict)
    after_commit: bool = False
    delay_s: float = 0.0  # the answer stalls this long (before the work, or after it)

    def matches(self, route: str) -> bool:
        if self.route == "meta.publish":
            return route in PUBLISH_ROUTES
        return self.route in ("*", route)

    def error(self) -> GraphError:
        extra = {} if self.is_transient is None else {"is_transient": self.is_transient}
        return GraphError(
            self.status, self.code, self.message, self.subcode, list(self.headers.items()), **extra
        )


def now_s() -> float:
    return time.time()


def graph_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def split_fields(spec: str) -> list[str]:
    """Top-level names of a `fields` list: `a,b.summary(x).limit(0),c{d,e}` -> a, b, c."""
    names, depth, current = [], 0, ""
    for char in spec:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [re.split(r"[.{(]", name.strip(), maxsplit=1)[0] for name in names if name.strip()]


def form_params(request: _Request) -> dict[str, Any]:
    """Query, url-encoded and multipart parameters; files as bytes with their type."""
    values: dict[str, Any] = {k: v[0] for k, v in request.query.items()}
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded") and request.body:
        values.update({k: v[0] for k, v in parse_qs(request.body.decode()).items()})
    elif kind.startswith("multipart/form-data"):
        message = BytesParser(policy=policy.default).parsebytes(
            f"Content-Type: {kind}\r\n\r\n".encode() + request.body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                values[name] = {"data": payload, "type": part.get_content_type()}
            else:
                values[name] = payload.decode()
    return values


def paged(items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """developers.facebook.com/docs/graph-api/results (cursor-based pagination)."""
    limit = max(1, min(100, int(params.get("limit") or 25)))
    after = str(params.get("after") or "")
    start = int(base64.urlsafe_b64decode(after).decode()) if after else 0
    page = items[start : start + limit]
    result: dict[str, Any] = {"data": page}
    if page:
        cursors = {"before": cursor_of(start), "after": cursor_of(start + len(page))}
        result["paging"] = {"cursors": cursors}
        if start + len(page) < len(items):
            result["paging"]["next"] = "https://graph.emulator.invalid/next"
    return result


def cursor_of(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def loads_object(value: Any) -> dict[str, Any]:
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
