"""OAuth 2.0 of the emulated X API: the consent page and the token endpoint (authorization
code with PKCE, refresh-token rotation), mixed into `emulator_x.XApi`; and the refusal
shape every emulated X route shares (problem details)."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chorus.testing.emulator_answers import HtmlPage

if TYPE_CHECKING:
    from chorus.testing.emulator_http import _Request

Reply = tuple[int, Any, list[tuple[str, str]]]


Html = HtmlPage  # the consent page


class Problem(Exception):
    """Ends a request with a problem-details refusal."""

    def __init__(self, status: int, detail: str = "", headers=None, **more: Any):
        super().__init__(detail)
        self.reply: Reply = (status, problem(status, detail, **more), list(headers or []))


def problem(status: int, detail: str = "", **more: Any) -> dict[str, Any]:
    """docs.x.com/x-api/fundamentals/response-codes-and-errors: problem details."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {
        "title": title,
        "detail": detail or title,
        "type": "about:blank",
        "status": status,
        **more,
    }


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class XOAuth:
    """Needs `self.emulator`, `self.codes`, `self.tokens`, `self.refresh_tokens`, `self.user`."""

    def authorize_page(self, request: _Request, _: str) -> Reply:
        """docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token (step 1):
        the consent page; here the person picks the account name to sign in as."""
        q = {
            name: request.arg(name)
            for name in (
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method",
            )
        }
        if q["response_type"] != "code" or not q["client_id"] or not q["redirect_uri"]:
            return 400, Html("<p>Something went wrong: invalid request.</p>"), []
        if not q["code_challenge"] or q["code_challenge_method"] not in ("S256", "plain"):
            return 400, Html("<p>Something went wrong: PKCE code_challenge required.</p>"), []
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v, quote=True)}">'
            for k, v in q.items()
        )
        page = (
            "<!doctype html><title>Authorize app</title><h1>Authorize app</h1>"
            f"<p>An app wants access to your X account: {html.escape(q['scope'])}</p>"
            f'<form method="post">{hidden}<label>Account <input name="username" '
            'value="chorus_user"></label><button name="decision" value="allow">Authorize app'
            '</button><button name="decision" value="deny">Cancel</button></form>'
        )
        return 200, Html(page), []

    def authorize_answer(self, request: _Request, _: str) -> Reply:
        form = request.json()
        redirect = str(form.get("redirect_uri") or "")
        sep = "&" if "?" in redirect else "?"
        if form.get("decision") != "allow":
            query = {"error": "access_denied", "state": form.get("state", "")}
            return 302, None, [("Location", f"{redirect}{sep}{urlencode(query)}")]
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "client_id": form.get("client_id"),
            "redirect_uri": redirect,
            "challenge": form.get("code_challenge"),
            "method": form.get("code_challenge_method"),
            "user": self.user(str(form.get("username") or "chorus_user"))["id"],
            "scope": form.get("scope", ""),
            "expires": time.time() + 30,
        }
        query = {"state": form.get("state", ""), "code": code}
        return 302, None, [("Location", f"{redirect}{sep}{urlencode(query)}")]

    def token(self, request: _Request, _: str) -> Reply:
        """docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code: the code
        (with its PKCE verifier) or a refresh token for a new pair; the old refresh token
        stops working at once."""
        form = request.json()
        client_id = str(form.get("client_id") or "")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            pair = base64.b64decode(basic[6:]).decode("utf-8", "replace")
            client_id = client_id or pair.partition(":")[0]
            given_id, _, given_secret = pair.partition(":")
            registered = self.clients.get(client_id)  # an app whose secret is known
            if given_id != client_id or (registered is not None and given_secret != registered):
                return (
                    401,
                    {
                        "error": "unauthorized_client",
                        "error_description": "Missing valid authorization header",
                    },
                    [],
                )
        invalid = (
            400,
            {
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            },
            [],
        )
        grant = form.get("grant_type")
        if grant == "authorization_code":
            entry = self.codes.pop(str(form.get("code") or ""), None)
            if entry is None or entry["expires"] < time.time() or entry["client_id"] != client_id:
                return invalid
            verifier = str(form.get("code_verifier") or "")
            expected = verifier if entry["method"] == "plain" else _challenge(verifier)
            if entry["redirect_uri"] != form.get("redirect_uri") or expected != entry["challenge"]:
                return invalid
            user, scope = entry["user"], entry["scope"]
        elif grant == "refresh_token":
            entry = self.refresh_tokens.pop(str(form.get("refresh_token") or ""), None)
            if entry is None or entry["client_id"] != client_id:
                return invalid
            user, scope = entry["user"], entry["scope"]
        else:
            return 400, {"error": "unsupported_grant_type"}, []
        ttl = self.emulator.settings.access_ttl_s
        access = secrets.token_urlsafe(32)
        self.tokens[access] = {"user": user, "expires": time.time() + ttl}
        answer = {
            "token_type": "bearer",
            "expires_in": int(ttl),
            "access_token": access,
            "scope": scope,
        }
        if "offline.access" in scope.split():
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = {"user": user, "client_id": client_id, "scope": scope}
            answer["refresh_token"] = refresh
        return 200, answer, []
