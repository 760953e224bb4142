"""Template filters of the inbox: durations and shares in plain words."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """1 h 5 min, 12 min, 40 s; an em dash when there is nothing to say."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return _("%(s)s s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)s min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(d)s days") % {"d": number_format(hours // 24)}


@register.filter
def percent(share) -> str:
    if share is None:
        return "—"
    return _("%(n)s%%") % {"n": number_format(round(share * 100))}
