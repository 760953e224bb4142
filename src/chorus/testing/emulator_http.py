"""The emulator's requests and answers, shared by every network it speaks."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

Reply = tuple[int, Any, list[tuple[str, str]]]


def _cid(data: bytes) -> str:
    return "bafyrei" + base64.b32encode(hashlib.sha256(data).digest()).decode().lower()[:52]


def _iso(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


class _Reply(Exception):
    """Ends a request early with this answer."""

    def __init__(self, status: int, payload: Any, headers: list[tuple[str, str]] | None = None):
        super().__init__(status)
        self.reply: Reply = (status, payload, headers or [])


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    route: str = ""
    out_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{self.headers.get('host', '127.0.0.1')}"

    @property
    def bearer(self) -> str:
        value = self.headers.get("authorization", "")
        return value[7:].strip() if value[:7].lower() == "bearer " else ""

    def arg(self, name: str) -> str:
        values = self.query.get(name) or self.query.get(f"{name}[]") or [""]
        return values[0]

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(self.body.decode("utf-8"))
            return {k: (v if k.endswith("[]") else v[0]) for k, v in form.items()}
        try:
            data = json.loads(self.body)
        except ValueError:
            raise _Reply(400, {"error": "the body is not JSON"}) from None
        return data if isinstance(data, dict) else {}
