"""The sandbox's Mastodon server: sign-in (OAuth), reading what people did, and its audience.

Publishing routes come from the emulator (`chorus.testing.emulator`); this module adds what
connecting an account and reading interactions need. Each route follows the page of
docs.joinmastodon.org named beside it, in the shape the unchanged provider
(`chorus.networks.providers.mastodon`) reads.
"""

from __future__ import annotations

import html
import re
import secrets
import time
from random import Random
from typing import Any
from urllib.parse import urlencode

from chorus.sandbox.voices import LINES, Persona
from chorus.testing.emulator_http import _iso, _Request

_USERNAME = re.compile(r"[A-Za-z0-9_]{1,30}")
_MAX_PAGE = 80  # GET /api/v1/notifications: "Max 80 notifications"


def _int(value: str) -> int:
    return int(value) if value.isdigit() else 0


class MastodonSandbox:
    """Mixin for the sandbox app: state lives on the emulator instance (`self`)."""

    base_url: str
    statuses: dict[str, dict[str, Any]]
    status_owner: dict[str, str]
    m_accounts: dict[str, dict[str, Any]]

    def _reset_mastodon(self) -> None:
        self.m_users: dict[str, dict[str, Any]] = {}  # username -> our account (OAuth sign-in)
        self.m_personas: dict[str, dict[str, Any]] = {}  # username -> audience account
        self.m_apps: dict[str, dict[str, Any]] = {}  # client_id -> registered app
        self.m_codes: dict[str, dict[str, Any]] = {}  # authorization code -> grant
        self.m_notifications: dict[str, list[dict[str, Any]]] = {}  # account id -> oldest first
        self.m_conversations: dict[str, dict[str, dict[str, Any]]] = {}  # account id -> convs
        self.m_followers: dict[str, set[str]] = {}  # account id -> follower ids

    def _mastodon_routes(self) -> None:
        self._mastodon.update(  # type: ignore[attr-defined]
            {
                # https://docs.joinmastodon.org/methods/apps/#create
                ("POST", "/api/v1/apps"): ("mastodon.apps.create", self._m_register_app),
                # https://docs.joinmastodon.org/methods/oauth/#token
                ("POST", "/oauth/token"): ("mastodon.oauth.token", self._m_oauth_token),
                # https://docs.joinmastodon.org/methods/oauth/#revoke
                ("POST", "/oauth/revoke"): ("mastodon.oauth.revoke", self._m_oauth_revoke),
                # https://docs.joinmastodon.org/methods/notifications/#get
                ("GET", "/api/v1/notifications"): (
                    "mastodon.notifications",
                    self._m_notifications,
                ),
                # https://docs.joinmastodon.org/methods/conversations/#get
                ("GET", "/api/v1/conversations"): (
                    "mastodon.conversations",
                    self._m_conversation_list,
                ),
            }
        )
        self._mastodon_items.update(  # type: ignore[attr-defined]
            {
                # https://docs.joinmastodon.org/methods/notifications/#get-one
                "/api/v1/notifications/": {
                    "GET": ("mastodon.notifications.get", self._m_notification)
                },
                # https://docs.joinmastodon.org/methods/accounts/#get
                "/api/v1/accounts/": {"GET": ("mastodon.accounts.get", self._m_account_by_id)},
            }
        )

    # https://docs.joinmastodon.org/methods/statuses/#context (a path with two parts: the
    # app's resolver sends `/api/v1/statuses/:id/context` here)
    def _m_context(self, request: _Request, status_id: str) -> tuple[int, Any, list]:
        if request.bearer:
            self._m_token(request)  # type: ignore[attr-defined]
        status = self.statuses.get(status_id)
        if status is None:
            return 404, {"error": "Record not found"}, []
        ancestors = []
        parent = self.statuses.get(str(status.get("in_reply_to_id") or ""))
        while parent is not None:
            ancestors.insert(0, parent)
            parent = self.statuses.get(str(parent.get("in_reply_to_id") or ""))
        children: dict[str, list[dict[str, Any]]] = {}
        for candidate in self.statuses.values():
            if candidate.get("in_reply_to_id") and candidate.get("visibility") != "direct":
                children.setdefault(str(candidate["in_reply_to_id"]), []).append(candidate)
        descendants, stack = [], [status_id]
        while stack:
            for child in sorted(children.get(stack.pop(0), []), key=lambda s: int(s["id"])):
                descendants.append(child)
                stack.append(child["id"])
        return 200, {"ancestors": ancestors, "descendants": descendants}, []

    # ----------------------------------------------------------------- accounts

    def _m_new_account(self, username: str, display_name: str = "") -> dict[str, Any]:
        return {
            "id": str(next(self._ids)),  # type: ignore[attr-defined]
            "username": username,
            "acct": username,
            "display_name": display_name or username,
            "locked": False,
            "bot": False,
            "note": "",
            "url": f"{self.base_url}/@{username}",
            "avatar": "",
            "header": "",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": 0,
            "created_at": _iso(time.time()),
        }

    def _m_user(self, username: str) -> dict[str, Any]:
        if username not in self.m_users:
            self.m_users[username] = self._m_new_account(username)
        return self.m_users[username]

    def _m_persona(self, persona: Persona) -> dict[str, Any]:
        if persona.username not in self.m_personas:
            self.m_personas[persona.username] = self._m_new_account(persona.username, persona.name)
        return self.m_personas[persona.username]

    def _m_find_account(self, account_id: str) -> dict[str, Any] | None:
        for group in (self.m_accounts.values(), self.m_personas.values(), self.m_users.values()):
            for account in group:
                if account["id"] == account_id:
                    return account
        return None

    def _m_account_by_id(self, request: _Request, account_id: str) -> tuple[int, Any, list]:
        if request.bearer:
            self._m_token(request)  # type: ignore[attr-defined]
        account = self._m_find_account(account_id)
        return (200, account, []) if account else (404, {"error": "Record not found"}, [])

    def _m_me(self, request: _Request) -> dict[str, Any]:
        token = self._m_token(request)  # type: ignore[attr-defined]
        return self._m_account(request, token)  # type: ignore[attr-defined]

    # ----------------------------------------------------------------- OAuth

    def _m_register_app(self, request: _Request, _: str) -> tuple[int, Any, list]:
        form = request.json()
        name = str(form.get("client_name") or "").strip()
        uris = form.get("redirect_uris") or form.get("redirect_uris[]") or ""
        uris = uris.split() if isinstance(uris, str) else [str(u) for u in uris]
        if not name or not uris:
            message = "Validation failed: client_name and redirect_uris are required"
            return 422, {"error": message}, []
        client_id, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        scopes = str(form.get("scopes") or "read")
        self.m_apps[client_id] = {"name": name, "secret": secret, "uris": uris, "scopes": scopes}
        app = {
            "id": str(next(self._ids)),  # type: ignore[attr-defined]
            "name": name,
            "website": form.get("website") or None,
            "scopes": scopes.split(),
            "redirect_uri": "\n".join(uris),
            "redirect_uris": uris,
            "client_id": client_id,
            "client_secret": secret,
        }
        return 200, app, []

    def authorize_page(self, request: _Request) -> tuple[int, str, list[tuple[str, str]]]:
        """GET shows the consent form; POST grants (or denies) and sends the browser back.

        https://docs.joinmastodon.org/methods/oauth/#authorize
        """
        params = {k: v[0] for k, v in request.query.items()}
        if request.method == "POST":
            params.update(request.json())
        app = self.m_apps.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if app is None or redirect_uri not in app["uris"]:
            page = "<p>Client authentication failed: unknown client or redirect URI.</p>"
            return 400, _page("Sandbox: authorization failed", page), []
        if request.method == "GET":
            return 200, _consent(app["name"], params), []
        back = {"state": params["state"]} if params.get("state") else {}
        if params.get("deny"):
            back["error"] = "access_denied"
            back["error_description"] = "The user denied access."
        else:
            username = params.get("username", "").strip().lstrip("@")
            if not _USERNAME.fullmatch(username):
                form = _consent(app["name"], params, "Use 1 to 30 letters, digits or _.")
                return 422, form, []
            code = secrets.token_urlsafe(24)
            self.m_codes[code] = {
                "client_id": params["client_id"],
                "redirect_uri": redirect_uri,
                "username": username,
                "scope": params.get("scope") or app["scopes"],
            }
            back["code"] = code
        sep = "&" if "?" in redirect_uri else "?"
        return 302, "", [("Location", f"{redirect_uri}{sep}{urlencode(back)}")]

    def _m_oauth_token(self, request: _Request, _: str) -> tuple[int, Any, list]:
        form = request.json()
        app = self.m_apps.get(str(form.get("client_id") or ""))
        if app is None or form.get("client_secret") != app["secret"]:
            message = "Client authentication failed due to unknown client."
            return 401, {"error": "invalid_client", "error_description": message}, []
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}, []
        grant = self.m_codes.pop(str(form.get("code") or ""), None)
        if grant is None or grant["client_id"] != form.get("client_id"):
            message = "The provided authorization grant is invalid, expired or revoked."
            return 400, {"error": "invalid_grant", "error_description": message}, []
        token = secrets.token_urlsafe(32)
        self.m_accounts[token] = self._m_user(grant["username"])
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "scope": grant["scope"],
            "created_at": int(time.time()),
        }
        return 200, body, []

    def _m_oauth_revoke(self, request: _Request, _: str) -> tuple[int, Any, list]:
        self.revoke(str(request.json().get("token") or ""))  # type: ignore[attr-defined]
        return 200, {}, []

    # ----------------------------------------------------------------- notifications

    def _m_notifications(self, request: _Request, _: str) -> tuple[int, Any, list]:
        me = self._m_me(request)
        types = set(request.query.get("types[]") or request.query.get("types") or [])
        excluded = set(request.query.get("exclude_types[]") or [])
        items = [
            n
            for n in self.m_notifications.get(me["id"], [])
            if (not types or n["type"] in types) and n["type"] not in excluded
        ]
        page, links = _paginate(request, items)
        return 200, page, links

    def _m_notification(self, request: _Request, notification_id: str) -> tuple[int, Any, list]:
        me = self._m_me(request)
        for item in self.m_notifications.get(me["id"], []):
            if item["id"] == notification_id:
                return 200, item, []
        return 404, {"error": "Record not found"}, []

    def _m_conversation_list(self, request: _Request, _: str) -> tuple[int, Any, list]:
        me = self._m_me(request)
        items = sorted(
            self.m_conversations.get(me["id"], {}).values(),
            key=lambda c: int(c["last_status"]["id"]),
        )
        page, links = _paginate(request, items, key=lambda c: c["last_status"]["id"])
        return 200, page, links

    def _m_notify(
        self, me: dict[str, Any], kind: str, actor: dict[str, Any], status: dict | None
    ) -> dict[str, Any]:
        notification_id = str(next(self._ids))  # type: ignore[attr-defined]
        notification: dict[str, Any] = {
            "id": notification_id,
            "type": kind,
            "group_key": f"ungrouped-{notification_id}",
            "created_at": _iso(time.time()),
            "account": actor,
        }
        if status is not None:
            notification["status"] = status
        self.m_notifications.setdefault(me["id"], []).append(notification)
        return notification

    # ----------------------------------------------------------------- the audience

    def _m_persona_status(
        self,
        author: dict[str, Any],
        text: str,
        *,
        mentions: list[dict[str, Any]],
        language: str,
        reply_to: dict[str, Any] | None = None,
        quote: dict[str, Any] | None = None,
        visibility: str = "public",
    ) -> dict[str, Any]:
        status_id = str(next(self._ids))  # type: ignore[attr-defined]
        content = html.escape(text)
        for account in mentions:
            link = (
                f'<span class="h-card" translate="no"><a href="{account["url"]}" '
                f'class="u-url mention">@<span>{account["username"]}</span></a></span>'
            )
            content = content.replace(f"@{account['username']}", link)
        url = f"{author['url']}/{status_id}"
        status = {
            "id": status_id,
            "created_at": _iso(time.time()),
            "in_reply_to_id": reply_to["id"] if reply_to else None,
            "in_reply_to_account_id": reply_to["account"]["id"] if reply_to else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": visibility,
            "language": language,
            "uri": url,
            "url": url,
            "content": f"<p>{content}</p>",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "quotes_count": 0,
            "media_attachments": [],
            "mentions": [
                {"id": a["id"], "username": a["username"], "acct": a["acct"], "url": a["url"]}
                for a in mentions
            ],
            "tags": [],
            "poll": None,
            "quote": {"state": "accepted", "quoted_status": quote} if quote else None,
            "account": author,
        }
        self.statuses[status_id] = status
        author["statuses_count"] += 1
        return status

    def mastodon_act(self, me: dict[str, Any], kind: str, persona: Persona, rng: Random) -> bool:
        """One audience member does `kind` to our account `me`; False if it cannot now."""
        actor = self._m_persona(persona)
        ours = sorted(
            (
                s
                for s in self.statuses.values()
                if s["account"] is me and s.get("visibility") in ("public", "unlisted")
            ),
            key=lambda s: int(s["id"]),
            reverse=True,
        )[:10]
        target = ours[min(int(rng.expovariate(0.6)), len(ours) - 1)] if ours else None
        mention = f"@{me['username']}"
        line = rng.choice(LINES.get(kind, LINES["reply"])[persona.language])
        if kind in ("like", "repost", "reply", "quote") and target is None:
            return False
        if kind == "like":
            target["favourites_count"] += 1
            self._m_notify(me, "favourite", actor, target)
        elif kind == "repost":
            target["reblogs_count"] += 1
            self._m_notify(me, "reblog", actor, target)
        elif kind == "reply":
            text = f"{mention} {line}"
            status = self._m_persona_status(
                actor, text, mentions=[me], language=persona.language, reply_to=target
            )
            target["replies_count"] += 1
            self._m_notify(me, "mention", actor, status)
        elif kind == "mention":
            text = line.format(handle=mention)
            status = self._m_persona_status(actor, text, mentions=[me], language=persona.language)
            self._m_notify(me, "mention", actor, status)
        elif kind == "quote":
            status = self._m_persona_status(
                actor, line, mentions=[], language=persona.language, quote=target
            )
            target["quotes_count"] = target.get("quotes_count", 0) + 1
            self._m_notify(me, "quote", actor, status)
        elif kind == "follow":
            followers = self.m_followers.setdefault(me["id"], set())
            if actor["id"] in followers:
                return False
            followers.add(actor["id"])
            me["followers_count"] += 1
            actor["following_count"] += 1
            self._m_notify(me, "follow", actor, None)
        elif kind == "direct_message":
            status = self._m_persona_status(
                actor,
                f"{mention} {line}",
                mentions=[me],
                language=persona.language,
                visibility="direct",
            )
            self._m_notify(me, "mention", actor, status)
            conversations = self.m_conversations.setdefault(me["id"], {})
            conversation = conversations.setdefault(
                actor["id"], {"id": str(len(conversations) + 1), "accounts": [actor]}
            )
            conversation.update(unread=True, last_status=status)
        else:
            return False
        return True


def _paginate(
    request: _Request, items: list[dict[str, Any]], key=lambda item: item["id"]
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Mastodon's id-based paging: newest first, `max_id`/`since_id`/`min_id`, Link header.

    https://docs.joinmastodon.org/api/guidelines/#pagination
    """
    limit = max(1, min(_int(request.arg("limit")) or 40, _MAX_PAGE))
    max_id, since_id, min_id = (_int(request.arg(n)) for n in ("max_id", "since_id", "min_id"))
    chosen = [
        item
        for item in items
        if (not max_id or int(key(item)) < max_id)
        and (not since_id or int(key(item)) > since_id)
        and (not min_id or int(key(item)) > min_id)
    ]
    chosen.sort(key=lambda item: int(key(item)))
    page = chosen[:limit] if min_id else chosen[-limit:]
    page.reverse()
    if not page:
        return page, []
    kept = [
        (name, value)
        for name, values in request.query.items()
        if name not in ("max_id", "since_id", "min_id")
        for value in values
    ]
    url = f"{request.base}{request.path}?"
    link = (
        f'<{url}{urlencode([*kept, ("max_id", key(page[-1]))])}>; rel="next", '
        f'<{url}{urlencode([*kept, ("min_id", key(page[0]))])}>; rel="prev"'
    )
    return page, [("Link", link)]


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{html.escape(title)}</title>'
        "<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;"
        "padding:0 1rem}.note{background:#fff4e6;padding:.5rem .75rem;border-radius:6px}"
        "input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}"
        "button{font:inherit;padding:.4rem 1rem;margin:.75rem .5rem 0 0}</style></head>"
        f"<body>{body}</body></html>"
    )


def _consent(app_name: str, params: dict[str, str], error: str = "") -> str:
    """The sandbox's stand-in for a Mastodon server's "Authorize" page (not Chorus's UI)."""
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k in ("client_id", "redirect_uri", "scope", "state", "response_type")
    )
    problem = f'<p class="note" role="alert">{html.escape(error)}</p>' if error else ""
    body = (
        "<h1>Sandbox Mastodon</h1>"
        '<p class="note">A practice server inside Chorus: nothing leaves this machine.</p>'
        f"<p><strong>{html.escape(app_name)}</strong> asks to read and post as your account "
        f"({html.escape(params.get('scope', ''))}).</p>{problem}"
        '<form method="post" action="/oauth/authorize">'
        '<label for="username">Sandbox user name (a new one is created)</label>'
        f'<input id="username" name="username" required pattern="[A-Za-z0-9_]{{1,30}}" '
        f'value="{html.escape(params.get("username", ""))}">{hidden}'
        '<button type="submit" id="authorize">Authorize</button>'
        '<button type="submit" name="deny" value="1" id="deny">Deny</button></form>'
    )
    return _page("Sandbox Mastodon: authorize", body)
