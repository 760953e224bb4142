"""Link clicks as an analytics figure: people following a post's short links count among
its engagements (issue 13, point 2). Registered into `chorus.analytics.figures` from
`LinksConfig.ready`, the seam analytics offers (docs/analytics.md, "Adding a figure"), so
analytics never imports links; the figure reads only links' own tables.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from chorus.analytics.figures import Figure, Number, register
from chorus.core.days import per_local_day
from chorus.links.models import Click


@register
class LinkClicks(Figure):
    key = "link_clicks"
    label = _("Link clicks")
    definition = _(
        "Clicks on the short links of your posts during the period, by people (bots and link "
        "previews are not counted); posts made outside Chorus have no short links."
    )
    engagement = True

    def _clicks(self, scope):
        rows = Click.objects.filter(
            at__gte=scope.moment(scope.start), at__lt=scope.moment(scope.end + timedelta(days=1))
        )
        if scope.filters_posts:
            return rows.filter(link__variant__tracked__in=scope.posts())
        return rows.filter(link__account_id__in=scope.account_ids)

    def run(self, scope) -> Number:
        return scope.memo("link_clicks", lambda: self._clicks(scope).count())

    def per_day(self, scope) -> dict[date, int]:
        counted = per_local_day(
            self._clicks(scope), "at", zoneinfo.ZoneInfo(scope.zone), Count("pk")
        )
        return {day: int(n) for day, n in counted.items()}

    def lifetime(self, post) -> Number:
        if post.variant_id is None:
            return None  # not made with Chorus: no short links
        return Click.objects.filter(link__variant_id=post.variant_id).count()
