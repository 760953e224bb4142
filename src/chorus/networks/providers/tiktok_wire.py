"""TikTok API v2 wire details shared by the TikTok connector: settings, token answers and
refusals.

Every v2 answer carries an error object (developers.tiktok.com/doc/tiktok-api-v2-error-handling):
`{"data": {...}, "error": {"code": "ok", "message": "", "log_id": "..."}}`; anything but
`ok` is a refusal, named by a readable code. The OAuth token endpoint answers in the OAuth
shape instead: `{"error", "error_description", "log_id"}`
(developers.tiktok.com/doc/oauth-user-access-token-management). TikTok's log id is kept in
every message: TikTok's support asks for it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx

from .base import AuthExpired, RateLimited, Rejected, Transient
from .wire import lenient_json, seconds_to_wait

API_URL = "https://open.tiktokapis.com"
AUTH_URL = "https://www.tiktok.com"
GUIDE = "docs/networks/tiktok.md"
ACCESS_TTL_S = 86400  # access tokens live 24 hours
REFRESH_TTL_S = 365 * 86400  # refresh tokens 365 days
_PER_MINUTE_WAIT_S = 60.0  # the documented limits are per minute
_CAP_WAIT_S = 3600.0  # daily caps: look again in an hour

# Refusals that name the post itself or the app's standing; everything in
# developers.tiktok.com/doc/tiktok-api-v2-error-handling and the Direct Post reference
# (developers.tiktok.com/doc/content-posting-api-reference-direct-post#error-codes).
_REJECTED = {
    "unaudited_client_can_only_post_to_private_accounts": (
        "TikTok only lets this installation's app post privately (visible to the account "
        "alone) until TikTok has audited the app; see {guide}."
    ),
    "url_ownership_unverified": (
        "TikTok fetches media from Chorus's site address, and that domain is not verified "
        "for this installation's TikTok app; verify it in the TikTok developer portal "
        "(see {guide})."
    ),
    "privacy_level_option_mismatch": (
        "This TikTok account cannot post with that audience; pick one the account offers."
    ),
    "spam_risk_user_banned_from_posting": "TikTok has stopped this account from posting.",
    "scope_permission_missed": (
        "This installation's TikTok app is not approved for this part of the API; see {guide}."
    ),
}
_CAPPED = {
    "spam_risk_too_many_posts": (
        "TikTok's daily limit of posts through apps is reached for this account; the post "
        "waits and is sent once TikTok allows it."
    ),
    "spam_risk_too_many_pending_share": (
        "Too many posts to this TikTok account are still being processed; the post waits."
    ),
    "reached_active_user_cap": (
        "This installation's TikTok app has reached its daily number of active posting "
        "accounts; the post waits and is sent once TikTok allows it."
    ),
}

# Chorus's audiences -> TikTok's privacy levels (creator_info privacy_level_options)
PRIVACY = {
    "public": "PUBLIC_TO_EVERYONE",
    "unlisted": "PUBLIC_TO_EVERYONE",
    "followers": "FOLLOWER_OF_CREATOR",
    "private": "FOLLOWER_OF_CREATOR",
    "mutual": "MUTUAL_FOLLOW_FRIENDS",
    "direct": "SELF_ONLY",
}
# fail_reason values (get-video-status page) and what to tell the user
FAILURES = {
    "file_format_check_failed": "TikTok does not take this file's format",
    "duration_check_failed": "the video is longer or shorter than TikTok allows",
    "frame_rate_check_failed": "TikTok does not take this video's frame rate",
    "picture_size_check_failed": "TikTok does not take a picture of this size",
    "video_pull_failed": "TikTok could not fetch the video from Chorus's site address",
    "photo_pull_failed": "TikTok could not fetch the photos from Chorus's site address",
    "publish_cancelled": "the post was cancelled on TikTok",
    "auth_removed": "the account took back Chorus's access",
    "spam_risk_too_many_posts": "TikTok's daily limit of posts is reached",
    "spam_risk_user_banned_from_posting": "TikTok has stopped this account from posting",
    "spam_risk_text": "TikTok took the caption for spam",
    "spam_risk": "TikTok took the post for spam",
}


def app_options() -> dict[str, str]:
    """This installation's TikTok app (settings.CHORUS_NETWORK_OPTIONS["tiktok"])."""
    from django.conf import settings

    return {k: v for k, v in settings.CHORUS_NETWORK_OPTIONS.get("tiktok", {}).items() if v}


def api_url() -> str:
    """TikTok itself, or a stand-in server (CHORUS_TIKTOK_API_URL, for tests)."""
    return app_options().get("api_url", API_URL).rstrip("/")


def auth_url() -> str:
    return app_options().get("auth_url", AUTH_URL).rstrip("/")


def audited() -> bool:
    """Whether TikTok has audited this installation's app (CHORUS_TIKTOK_AUDITED): before,
    every post it makes is private."""
    return bool(app_options().get("audited"))


def answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON object TikTok answered with; one that is not is a passing fault."""
    try:
        data = lenient_json(response)
    except ValueError as exc:
        raise Transient(
            f"TikTok answered with something that is not JSON (HTTP {response.status_code})"
        ) from exc
    if not isinstance(data, dict):
        raise Transient("TikTok answered with something unexpected")
    return data


def error_of(data: dict[str, Any]) -> tuple[str, str, str]:
    """(code, message, log_id) of a v2 answer; code "ok" when it succeeded."""
    error = data.get("error")
    if not isinstance(error, dict):
        return "ok", "", ""
    return (
        str(error.get("code") or "ok"),
        str(error.get("message") or "").strip(),
        str(error.get("log_id") or ""),
    )


def _said(message: str, log_id: str) -> str:
    parts = [message] if message else []
    if log_id:
        parts.append(f"TikTok log id {log_id}")
    return f" ({'; '.join(parts)})" if parts else ""


def data_of(response: httpx.Response) -> dict[str, Any]:
    """The `data` of a v2 answer; a refusal raised as the provider's typed errors."""
    body = answer(response) if response.content else {}
    code, message, log_id = error_of(body)
    status = response.status_code
    if code == "ok" and 200 <= status < 300:
        data = body.get("data")
        return data if isinstance(data, dict) else {}
    said = _said(message, log_id)
    if code in ("access_token_invalid", "token_expired") or (code == "ok" and status == 401):
        raise AuthExpired(f"TikTok no longer accepts this account's sign-in{said}. Reconnect it.")
    if code == "scope_not_authorized":
        raise AuthExpired(
            f"This TikTok account did not grant Chorus everything it needs{said}. Reconnect "
            "it and allow every permission TikTok asks for."
        )
    if code == "rate_limit_exceeded" or status == 429:
        wait = seconds_to_wait(
            None,
            response.headers.get("retry-after", ""),
            now=datetime.now(UTC),
            default=_PER_MINUTE_WAIT_S,
        )
        raise RateLimited(f"TikTok asks Chorus to slow down{said}", retry_after=wait)
    if code in _CAPPED:
        raise RateLimited(_CAPPED[code] + said, retry_after=_CAP_WAIT_S)
    if code in _REJECTED:
        raise Rejected(_REJECTED[code].format(guide=GUIDE) + said)
    if code == "internal_error" or status >= 500:
        raise Transient(f"TikTok had a problem (HTTP {status}){said}; Chorus will try again.")
    raise Rejected(f"TikTok refused the request ({code}, HTTP {status}){said}")


def token_answer(response: httpx.Response, step: str) -> dict[str, Any]:
    """A token answer (`POST /v2/oauth/token/`); a refused grant is the sign-in failing:
    Rejected while connecting, AuthExpired when renewing."""
    if response.status_code == 429 or response.status_code >= 500:
        data_of(response)
    body = answer(response)
    if not body.get("access_token"):
        words = str(body.get("error_description") or body.get("error") or "no access token")
        said = _said(words, str(body.get("log_id") or ""))
        if step == "refresh":
            raise AuthExpired(f"TikTok no longer accepts this connection{said}. Reconnect it.")
        raise Rejected(f"TikTok did not accept the sign-in{said}")
    return body


def secrets_of(tokens: dict[str, Any], old_refresh: str = "") -> dict[str, str]:
    now = int(time.time())
    expires_in = tokens.get("expires_in")
    refresh_in = tokens.get("refresh_expires_in")
    return {
        "access_token": str(tokens["access_token"]),
        "refresh_token": str(tokens.get("refresh_token") or old_refresh),
        "expires_at": str(now + (expires_in if isinstance(expires_in, int) else ACCESS_TTL_S)),
        "refresh_expires_at": str(
            now + (refresh_in if isinstance(refresh_in, int) else REFRESH_TTL_S)
        ),
    }
