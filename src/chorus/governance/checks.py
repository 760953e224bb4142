"""Start-up checks: a bad CHORUS_TRUSTED_PROXIES entry is named instead of failing later."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.checks import Error, register


@register()
def trusted_proxies(app_configs, **kwargs):
    errors = []
    for entry in getattr(settings, "CHORUS_TRUSTED_PROXIES", []) or []:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            errors.append(
                Error(
                    f"CHORUS_TRUSTED_PROXIES entry {entry!r} is not an address or network "
                    "(use e.g. 10.0.0.1 or 10.0.0.0/8).",
                    id="governance.E001",
                )
            )
    return errors
