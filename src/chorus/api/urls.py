"""The versioned API object; domain routers are added here as they land."""

from __future__ import annotations

from chorus import __version__
from chorus.api import (
    accounts,
    analytics,
    approvals,
    errors,
    governance,
    inbox,
    inbox_suggestions,
    links,
    listening,
    listening_alerts,
    listening_boards,
    networks,
    publishing,
)

api = errors.ChorusAPI(
    parser=errors.TextParser(),
    title="Chorus API",
    version=__version__,
    urls_namespace="api-v1",
    description=(
        "Authenticate with a personal API token: `Authorization: Bearer chorus_...`. "
        'Errors are always `{"error": {"code", "message", "fields"}}`. '
        "Lists are paginated with `page` and `page_size` (at most 200). "
        "Times are ISO 8601; a time without an offset (`2026-12-01T09:30:00`) is read in the "
        "workspace's time zone, whether you call with a token or from a signed-in browser; "
        "times in answers carry their offset (UTC)."
    ),
)
errors.install(api)
api.add_router("/", accounts.router)
api.add_router("/", networks.router)
api.add_router("/", publishing.router)
api.add_router("/", governance.router)
api.add_router("/", approvals.router)
api.add_router("/", listening.router)
api.add_router("/", listening_alerts.router)
api.add_router("/", listening_boards.router)
api.add_router("/", links.router)
api.add_router("/", analytics.router)
api.add_router("/", inbox.router)
api.add_router("/", inbox_suggestions.router)
