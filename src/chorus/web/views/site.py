"""Requests every browser makes on its own, whatever the page: the site icon."""

from __future__ import annotations

from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static

from chorus.web.views.common import public


@public
def favicon(request):
    """/favicon.ico, which browsers and feed readers ask for without reading the page."""
    return HttpResponsePermanentRedirect(static("chorus/favicon.ico"))
