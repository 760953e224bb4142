"""API authentication: a personal token (Bearer) or the browser session with CSRF.

Every operation declares the scope it needs through `member(scope)`; a token must
carry that scope, while a browser session acts with the user's full role. Either way the
workspace's time zone is active for the request, so times without an offset mean the same.
"""

from __future__ import annotations

import zoneinfo

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from chorus.accounts import services
from chorus.accounts.models import Membership
from chorus.accounts.scopes import Scope

WORKSPACE_TIME = (
    "ISO 8601. Without an offset (2026-12-01T09:30:00) it is read in the workspace's time "
    "zone, for tokens and browser sessions alike."
)


class TokenAuth(HttpBearer):
    def __init__(self, scope: Scope):
        super().__init__()
        self.scope = scope

    def authenticate(self, request, token: str):
        api_token = services.api_token_authenticate(token)
        if api_token is None:
            return None
        if self.scope not in api_token.scopes:
            raise HttpError(403, _("This token lacks the scope %(scope)s.") % {"scope": self.scope})
        request.user = api_token.user
        request.membership = Membership.objects.select_related("workspace", "user").get(
            user=api_token.user, workspace=api_token.workspace
        )
        request.api_token = api_token
        use_workspace_zone(request.membership)
        return api_token


class SessionMemberAuth(APIKeyCookie):
    """The signed-in browser session, in its current workspace; CSRF is checked."""

    param_name = "sessionid"

    def __init__(self, scope: Scope):
        super().__init__(csrf=True)
        self.scope = scope

    def authenticate(self, request, key):
        if request.user.is_authenticated and getattr(request, "membership", None):
            use_workspace_zone(request.membership)
            return request.membership
        return None


def use_workspace_zone(membership: Membership) -> None:
    """The API reads a time without an offset in the workspace's zone, whoever calls it and
    however (a token, or a browser session whose pages use the person's own zone)."""
    try:
        timezone.activate(zoneinfo.ZoneInfo(membership.workspace.timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.activate(zoneinfo.ZoneInfo("UTC"))


def member(scope: Scope) -> list:
    """Auth for an operation that needs `scope`: a token with it, or a session."""
    return [TokenAuth(scope), SessionMemberAuth(scope)]


def operation_scope(auth: list) -> Scope | None:
    """The scope an operation's auth declares (used by the permission-matrix test)."""
    scopes = {getattr(item, "scope", None) for item in auth or []}
    return scopes.pop() if len(scopes) == 1 else None
