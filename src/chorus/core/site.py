"""The site's public address: the one source of truth for every link sent outside a page.

`settings.SITE_URL` comes from CHORUS_SITE_URL; when it is not set, `chorus run` and
`chorus web` set it to the address they actually serve (see `chorus.cli.default_site_url`),
so links in e-mails never point at another port.
"""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str = "/") -> str:
    """`path` (starting with "/") on the site's public address."""
    if not path.startswith("/"):
        path = "/" + path
    return settings.SITE_URL + path
