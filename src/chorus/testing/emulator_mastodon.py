"""The emulated Mastodon REST API (docs.joinmastodon.org/methods): instance, credentials,
statuses (with `Idempotency-Key`), media (202 while processing) and an account's statuses
for reconciliation. A mixin of `Emulator`, whose state and rate limits it uses."""

from __future__ import annotations

import html
import re
import time
from typing import Any

from chorus.testing.emulator_http import Reply, _iso, _Reply, _Request

MASTODON_MAX_CHARACTERS = 500
_USERNAME = re.compile(r"[^A-Za-z0-9_]")


class MastodonRoutes:
    """The `/api/` routes of `Emulator`."""

    def _m_token(self, request: _Request) -> str:
        token = request.bearer
        if not token:
            raise _Reply(401, {"error": "The access token is invalid"})
        if token in self.revoked:
            self.counters["auth_rejected"] += 1
            raise _Reply(401, {"error": "The access token was revoked"})
        self._consume(request, token)
        return token

    def _m_account(self, request: _Request, token: str) -> dict[str, Any]:
        account = self.m_accounts.get(token)
        if account is None:
            number = len(self.m_accounts) + 1
            username = _USERNAME.sub("_", token)[:30] or f"user{number}"
            account = self.m_accounts[token] = {
                "id": str(number),
                "username": username,
                "acct": username,
                "display_name": username,
                "url": f"{request.base}/@{username}",
                "avatar": "",
                "followers_count": 0,
                "following_count": 0,
                "statuses_count": 0,
                "created_at": _iso(time.time()),
            }
        return account

    def _m_instance(self, request: _Request, _: str) -> Reply:
        host = request.headers.get("host", "127.0.0.1")
        return (
            200,
            {
                "domain": host,
                "uri": host,
                "title": "Chorus network emulator",
                "version": "4.3.0",
                "configuration": {
                    "statuses": {
                        "max_characters": MASTODON_MAX_CHARACTERS,
                        "max_media_attachments": 4,
                        "characters_reserved_per_url": 23,
                    },
                    "media_attachments": {
                        "supported_mime_types": ["image/jpeg", "image/png", "image/gif"],
                        "image_size_limit": 16 * 1024 * 1024,
                        "video_size_limit": 99 * 1024 * 1024,
                        "description_limit": 1500,
                    },
                    "polls": {"max_options": 4, "max_characters_per_option": 50},
                },
            },
            [],
        )

    def _m_verify(self, request: _Request, _: str) -> Reply:
        return 200, self._m_account(request, self._m_token(request)), []

    def _m_post_status(self, request: _Request, _: str) -> Reply:
        token = self._m_token(request)
        key = request.headers.get("idempotency-key", "")
        if key and self.settings.honour_idempotency_key and (token, key) in self.idempotency:
            self.counters["idempotent_replays"] += 1
            return 200, self.statuses[self.idempotency[(token, key)]], []
        form = request.json()
        text = str(form.get("status") or "")
        media_ids = [str(m) for m in form.get("media_ids") or form.get("media_ids[]") or []]
        if not text.strip() and not media_ids:
            return 422, {"error": "Validation failed: Text can't be blank"}, []
        if len(text) > MASTODON_MAX_CHARACTERS:
            limit = MASTODON_MAX_CHARACTERS
            message = f"Validation failed: Text character limit of {limit} exceeded"
            return 422, {"error": message}, []
        attachments = []
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None or media["owner"] != token:
                return 422, {"error": "Validation failed: Media attachments are invalid"}, []
            if media["checks_left"] > 0:
                message = "Cannot attach files that have not finished processing. Try again!"
                return 422, {"error": message}, []
            attachments.append(media["json"])
        reply_to = str(form.get("in_reply_to_id") or "") or None
        if reply_to is not None and reply_to not in self.statuses:
            return 404, {"error": "Record not found"}, []
        account = self._m_account(request, token)
        status_id, now = str(next(self._ids)), time.time()
        url = f"{account['url']}/{status_id}"
        status = {
            "id": status_id,
            "created_at": _iso(now),
            "in_reply_to_id": reply_to,
            "sensitive": bool(form.get("sensitive")),
            "spoiler_text": str(form.get("spoiler_text") or ""),
            "visibility": str(form.get("visibility") or "public"),
            "language": form.get("language"),
            "uri": url,
            "url": url,
            "content": f"<p>{html.escape(text)}</p>",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "media_attachments": attachments,
            "poll": form.get("poll"),
            "account": account,
        }
        self.statuses[status_id] = status
        self.status_owner[status_id] = token
        if key:
            self.idempotency[(token, key)] = status_id
        account["statuses_count"] += 1
        self._published("mastodon", token, key, status_id, now, text)
        return 200, status, []

    def _m_statuses(self, request: _Request, _: str) -> Reply:
        ids = request.query.get("id[]") or request.query.get("id") or []
        return 200, [self.statuses[i] for i in ids if i in self.statuses], []

    def _m_account_statuses(self, request: _Request, account_id: str) -> Reply:
        self._m_token(request)
        owner = next((t for t, a in self.m_accounts.items() if a["id"] == account_id), None)
        if owner is None:
            return 404, {"error": "Record not found"}, []
        limit = min(int(request.arg("limit") or 20), 40)
        before = int(request.arg("max_id") or 0)
        found = []
        for status_id in reversed(self.statuses):  # ids grow with time: newest first
            if self.status_owner.get(status_id) == owner and not (
                before and int(status_id) >= before
            ):
                found.append(self.statuses[status_id])
                if len(found) == limit:
                    break
        return 200, found, []

    def _m_status(self, request: _Request, status_id: str) -> Reply:
        if request.bearer:
            self._m_token(request)
        status = self.statuses.get(status_id)
        return (200, status, []) if status else (404, {"error": "Record not found"}, [])

    def _m_delete(self, request: _Request, status_id: str) -> Reply:
        token = self._m_token(request)
        if self.status_owner.get(status_id) != token:
            return 404, {"error": "Record not found"}, []
        status = self.statuses.pop(status_id)
        del self.status_owner[status_id]
        self.counters["posts_deleted"] += 1
        status["account"]["statuses_count"] -= 1
        return 200, status, []

    def _m_upload(self, request: _Request, _: str) -> Reply:
        token = self._m_token(request)
        media_id = str(next(self._ids))
        checks = int(self.settings.media_processing_checks)
        url = f"{request.base}/media/{media_id}"
        media = {
            "id": media_id,
            "type": "image",
            "url": None if checks else url,
            "preview_url": None if checks else url,
            "description": None,
            "meta": {"bytes": len(request.body)},
        }
        self.media[media_id] = {"owner": token, "checks_left": checks, "json": media, "url": url}
        return (202 if checks else 200), media, []

    def _m_media(self, request: _Request, media_id: str) -> Reply:
        token = self._m_token(request)
        media = self.media.get(media_id)
        if media is None or media["owner"] != token:
            return 404, {"error": "Record not found"}, []
        if media["checks_left"] > 0:
            media["checks_left"] -= 1
            return 206, media["json"], []
        media["json"].update(url=media["url"], preview_url=media["url"])
        return 200, media["json"], []
