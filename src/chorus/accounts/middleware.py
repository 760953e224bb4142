"""Per-request language, time zone and current workspace for signed-in users."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone, translation

from chorus.accounts.selectors import memberships_of

SESSION_WORKSPACE_KEY = "chorus_workspace_id"


class UserPreferencesMiddleware:
    """Activate the user's chosen language (over the browser's)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class CurrentWorkspaceMiddleware:
    """Pick the workspace the user last switched to (else their first) and its zone.

    Sets `request.membership` (None when signed out or in no workspace).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        if request.user.is_authenticated:
            memberships = list(memberships_of(request.user))
            wanted = request.session.get(SESSION_WORKSPACE_KEY)
            chosen = next((m for m in memberships if m.workspace_id == wanted), None)
            first_joined = min(memberships, key=lambda m: m.pk) if memberships else None
            request.membership = chosen or first_joined
            request.memberships = memberships
            zone = request.user.timezone or (
                request.membership.workspace.timezone if request.membership else "UTC"
            )
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.activate(zoneinfo.ZoneInfo("UTC"))
        else:
            timezone.deactivate()
        return self.get_response(request)
