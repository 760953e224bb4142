"""The emulated LinkedIn API (api.linkedin.com and www.linkedin.com's OAuth pages), served
under `/linkedin/` beside the other networks.

Point Chorus at it with CHORUS_LINKEDIN_API_URL and CHORUS_LINKEDIN_AUTH_URL set to
`{emulator}/linkedin`. Each route cites the learn.microsoft.com/linkedin page it follows.
Versioned `/rest/` calls must carry `LinkedIn-Version` and `X-Restli-Protocol-Version:
2.0.0`; each route needs the permission LinkedIn documents, refused with 403 otherwise.
Refusals are `{"status", "serviceErrorCode", "code", "message"}`; created entities answer
201 with their URN in `x-restli-id`. Like LinkedIn, a post whose commentary repeats the
author's previous post is refused as a duplicate (422).

Control: POST /_emulator/linkedin/<action>: `configure` (`scopes` the app may grant,
`refresh_tokens`, `daily_posts`, `lose_answers`: posts made whose answer is a 504,
`faults`: steps `{route, times, status, message, retry_after, delay_s, after_commit}` on
`linkedin.posts.create` or `*`), `member` (a member and the organizations they hold a role
on), `account` (a member who has already allowed the app, with a token: load tests),
`comment` (someone comments on a post), `reactions` and `statistics` (counts of a post),
`expire` (every token ends), `state`. Tokens given to the emulator's `revoke` answer 401
`REVOKED_ACCESS_TOKEN`; each post made goes to the emulator's event log.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import math
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chorus.testing.emulator_answers import HtmlPage
from chorus.testing.emulator_linkedin_rest import LinkedInError, LinkedInRest
from chorus.testing.emulator_meta_wire import form_params

if TYPE_CHECKING:
    from chorus.testing.emulator_http import _Request

Reply = tuple[int, Any, list[tuple[str, str]]]
PREFIX = "/linkedin/"
ACCESS_S = 60 * 86400
REFRESH_S = 365 * 86400
ALL_SCOPES = (
    "openid profile email w_member_social r_member_social r_member_profileAnalytics "
    "r_organization_social w_organization_social rw_organization_admin r_organization_admin"
)
MEMBER_SCOPES = "openid profile w_member_social"
PUBLISH_ROUTE = "linkedin.posts.create"


@dataclass
class LinkedInFault:
    """A scripted answer on a route: `status` (0: answer normally, after `delay_s`) in
    LinkedIn's error shape, with `Retry-After` when `retry_after` is set; `after_commit`
    carries the request out first, as a lost answer looks."""

    route: str = "*"
    times: int = 1
    status: int = 0
    message: str = ""
    retry_after: float | None = None
    delay_s: float = 0.0
    after_commit: bool = False

    def reply(self) -> Reply:
        words = self.message or {429: "Too Many Requests", 503: "Service Unavailable"}.get(
            self.status, "Internal Server Error"
        )
        status, payload, _ = LinkedInError(self.status, words).reply
        wait = self.retry_after
        headers = [] if wait is None else [("Retry-After", str(math.ceil(wait)))]
        return status, payload, headers


class LinkedInApi(LinkedInRest):
    """All LinkedIn state; touched only from the emulator's event loop."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.scopes = set(ALL_SCOPES.split())
        self.refresh_tokens = True
        self.daily_posts = 150  # rate-limits: the member's daily share limit
        self.lose_answers = 0
        self.faults: list[LinkedInFault] = []
        self.members: dict[str, dict[str, Any]] = {}  # sub -> {sub, name, roles}
        self.organizations: dict[str, dict[str, Any]] = {}  # id -> {id, name, vanity, ...}
        self.codes: dict[str, tuple[str, str, str]] = {}  # code -> (sub, redirect, scope)
        self.tokens: dict[str, dict[str, Any]] = {}  # token -> {sub, scope, expires}
        self.refreshes: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}  # urn -> post
        self.comments: dict[str, dict[str, Any]] = {}  # comment urn -> comment
        self.uploads: dict[str, dict[str, Any]] = {}  # image/document urn -> {owner, size}
        self.posted: dict[str, list[float]] = {}  # author -> times of posts
        self._ids = itertools.count(7_100_000_000_000_000_000)

    # ----------------------------------------------------------------- control

    def control(self, name: str, body: dict[str, Any]) -> Reply:
        if name == "configure":
            if "scopes" in body:
                self.scopes = set(str(body["scopes"]).split())
            for key in ("refresh_tokens",):
                if key in body:
                    setattr(self, key, bool(body[key]))
            for key in ("daily_posts", "lose_answers"):
                if key in body:
                    setattr(self, key, int(body[key]))
            if "faults" in body:
                self.faults = [LinkedInFault(**step) for step in body["faults"]]
            return 200, {"ok": True}, []
        if name == "member":
            return 200, self.add_member(str(body["name"]), body.get("organizations") or []), []
        if name == "account":  # a member who has already allowed the app (load tests)
            member = self.add_member(str(body["name"]), [])
            scope = str(body.get("scope") or f"{MEMBER_SCOPES} r_member_social")
            tokens = self._tokens(member["sub"], scope, refresh=False)
            return 200, {"sub": member["sub"], "name": member["name"], **tokens}, []
        if name == "comment":
            post = str(body["post"])
            actor = str(body.get("actor") or "urn:li:person:someone")
            comment = self._comment(post, actor, str(body.get("text") or ""), body.get("parent"))
            return 200, comment, []
        if name == "reactions":
            self.posts[str(body["post"])]["reactions"] = dict(body["reactions"])
            return 200, {"ok": True}, []
        if name == "statistics":
            self.posts[str(body["post"])]["statistics"] = dict(body["statistics"])
            return 200, {"ok": True}, []
        if name == "expire":
            for grant in self.tokens.values():
                grant["expires"] = 0.0
            return 200, {"ok": True}, []
        if name == "state":
            return 200, {"posts": list(self.posts.values()), "uploads": self.uploads}, []
        raise KeyError(name)

    def add_member(self, name: str, organizations: list[dict[str, Any]]) -> dict[str, Any]:
        """A member; each organization `{name, vanity, role, followers}` they hold a role on."""
        sub = next((m["sub"] for m in self.members.values() if m["name"] == name), "")
        member = self.members.get(sub) or {
            "sub": secrets.token_hex(5),
            "name": name,
            "roles": {},
            "followers": 120,
        }
        self.members[member["sub"]] = member
        for org in organizations:
            org_id = str(next(self._ids) % 100_000_000)
            self.organizations[org_id] = {
                "id": int(org_id),
                "localizedName": str(org["name"]),
                "vanityName": str(org.get("vanity") or org["name"].lower().replace(" ", "-")),
                "followers": int(org.get("followers") or 0),
            }
            member["roles"][f"urn:li:organization:{org_id}"] = str(
                org.get("role") or "ADMINISTRATOR"
            )
        return member

    # ----------------------------------------------------------------- routing

    @staticmethod
    def owns(request: _Request) -> bool:
        return request.path.startswith(PREFIX)

    async def handle(self, request: _Request) -> Reply:
        path = request.path.removeprefix(PREFIX).strip("/")
        creating = request.method == "POST" and path == "rest/posts"
        fault = self._take_fault(PUBLISH_ROUTE) if creating else None
        if fault is None:
            return self._answer(request, path)
        if not fault.after_commit:
            await asyncio.sleep(fault.delay_s)
            if fault.status:
                return fault.reply()
        reply = self._answer(request, path)
        if fault.after_commit:
            await asyncio.sleep(fault.delay_s)
            if fault.status:
                return fault.reply()
        return reply

    def _take_fault(self, route: str) -> LinkedInFault | None:
        fault = next((f for f in self.faults if f.route in ("*", route)), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            self.emulator.counters["faults_injected"] += 1
        return fault

    def _answer(self, request: _Request, path: str) -> Reply:
        self.emulator.counters[f"route:linkedin.{'/'.join(path.split('/')[:2])}"] += 1
        try:
            if path == "oauth/v2/authorization":
                return self._authorize(request.method, form_params(request))
            if path == "oauth/v2/accessToken" and request.method == "POST":
                return self._access_token(form_params(request))
            grant = self._grant_of(request)
            if path.startswith("upload/") and request.method == "PUT":
                return self._upload(path.removeprefix("upload/"), request.body)
            if path == "v2/userinfo":
                return self._userinfo(grant)
            if path.startswith("rest/"):
                self._check_versioned(request)
                return self._rest(request, path, grant)
        except LinkedInError as refusal:
            return refusal.reply
        return 404, {"status": 404, "message": f"No resource found at /{path}"}, []

    # ----------------------------------------------------------------- sign-in

    def _authorize(self, method: str, params: dict[str, Any]) -> Reply:
        """shared/authentication/authorization-code-flow (step 2): the member signs in and
        allows the app, or cancels; LinkedIn redirects back with `code` and `state`, or
        `error`. A scope the app's products do not grant is `unauthorized_scope_error`."""
        wanted = ("response_type", "client_id", "redirect_uri", "state", "scope")
        query = {name: str(params.get(name) or "") for name in wanted}
        if query["response_type"] != "code" or not query["client_id"] or not query["redirect_uri"]:
            return 400, HtmlPage("<p>Invalid request: missing parameters.</p>"), []
        back = {"state": query["state"]}
        extra = sorted(set(query["scope"].split()) - self.scopes)
        if extra:
            back |= {
                "error": "unauthorized_scope_error",
                "error_description": f"Scope &quot;{extra[0]}&quot; is not authorized",
            }
            return 302, None, [("location", f"{query['redirect_uri']}?{urlencode(back)}")]
        if method == "GET":
            hidden = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v, quote=True)}">'
                for k, v in query.items()
            )
            page = (
                "<!doctype html><title>LinkedIn</title>"
                "<h1>Chorus would like to access your LinkedIn account</h1>"
                f"<p>Permissions: {html.escape(query['scope'])}</p>"
                f'<form method="post">{hidden}'
                '<label>Member <input name="member" value="Ada Lovelace"></label>'
                '<button name="decision" value="allow">Allow</button>'
                '<button name="decision" value="cancel">Cancel</button></form>'
            )
            return 200, HtmlPage(page), []
        if params.get("decision") != "allow":
            back |= {
                "error": "user_cancelled_authorize",
                "error_description": "The user cancelled the authorization",
            }
            return 302, None, [("location", f"{query['redirect_uri']}?{urlencode(back)}")]
        member = self.add_member(str(params.get("member") or "Ada Lovelace"), [])
        code = secrets.token_urlsafe(24)
        self.codes[code] = (member["sub"], query["redirect_uri"], query["scope"])
        back["code"] = code
        return 302, None, [("location", f"{query['redirect_uri']}?{urlencode(back)}")]

    def _access_token(self, params: dict[str, Any]) -> Reply:
        """authorization-code-flow (step 3) and programmatic-refresh-tokens: OAuth errors
        are `{error, error_description}` with 400 (401 for a wrong client)."""
        if not params.get("client_id") or params.get("client_secret") != "s3cret":
            return (
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                [],
            )
        grant_type = params.get("grant_type")
        if grant_type == "authorization_code":
            found = self.codes.pop(str(params.get("code") or ""), None)
            if found is None or found[1] != params.get("redirect_uri"):
                return 400, self._oauth_error("invalid_grant", "authorization code not found"), []
            return 200, self._tokens(found[0], found[2]), []
        if grant_type == "refresh_token":
            old = self.refreshes.get(str(params.get("refresh_token") or ""))
            if old is None or old["expires"] <= time.time():
                return 400, self._oauth_error("invalid_request", "Invalid refresh token"), []
            return 200, self._tokens(old["sub"], old["scope"], refresh=False), []
        return 400, self._oauth_error("unsupported_grant_type", "unsupported grant_type"), []

    @staticmethod
    def _oauth_error(error: str, description: str) -> dict[str, str]:
        return {"error": error, "error_description": description}

    def _tokens(self, sub: str, scope: str, *, refresh: bool = True) -> dict[str, Any]:
        token = "AQV" + secrets.token_urlsafe(32)
        self.tokens[token] = {"sub": sub, "scope": scope, "expires": time.time() + ACCESS_S}
        answer: dict[str, Any] = {
            "access_token": token,
            "expires_in": ACCESS_S,
            "scope": scope.replace(" ", ","),
        }
        if self.refresh_tokens and refresh:
            refresh_token = "AQX" + secrets.token_urlsafe(32)
            self.refreshes[refresh_token] = {
                "sub": sub,
                "scope": scope,
                "expires": time.time() + REFRESH_S,
            }
            answer |= {"refresh_token": refresh_token, "refresh_token_expires_in": REFRESH_S}
        return answer

    def _grant_of(self, request: _Request) -> dict[str, Any]:
        grant = self.tokens.get(request.bearer)
        if grant is None:
            raise LinkedInError(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
        if request.bearer in self.emulator.revoked:
            self.emulator.counters["auth_rejected"] += 1
            raise LinkedInError(
                401,
                "The token used in the request has been revoked by the user",
                "REVOKED_ACCESS_TOKEN",
                65602,
            )
        if grant["expires"] <= time.time():
            raise LinkedInError(
                401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN", 65601
            )
        return grant

    @staticmethod
    def _check_versioned(request: _Request) -> None:
        """marketing/versioning: a versioned call names its version and Rest.li 2.0."""
        if not re.fullmatch(r"\d{6}", request.headers.get("linkedin-version", "")):
            raise LinkedInError(400, "A version must be present. Please specify a version.")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            raise LinkedInError(400, "Rest.li protocol version 2.0.0 is required")

    def _userinfo(self, grant: dict[str, Any]) -> Reply:
        """consumer/integrations/self-serve/sign-in-with-linkedin-v2: GET /v2/userinfo."""
        self._need(grant, "openid", "userinfo.GET")
        member = self.members[grant["sub"]]
        return (
            200,
            {
                "sub": member["sub"],
                "name": member["name"],
                "given_name": member["name"].split()[0],
                "picture": f"https://media.licdn.invalid/{member['sub']}.jpg",
                "locale": {"country": "US", "language": "en"},
            },
            [],
        )
