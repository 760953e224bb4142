"""Reports as CSV: the Analytics page's report and saved reports, for pages and the API."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from chorus.analytics import dashboards, figures
from chorus.analytics.models import Report
from chorus.analytics.selectors import Scope


def write_report(writer, scope, keys=None) -> None:
    """Figures (this period, previous period), then one row per day; `keys` narrows the
    figures to a saved report's."""
    not_reported = _("not reported")
    writer.writerow([_("Period"), scope.start.isoformat(), scope.end.isoformat()])
    writer.writerow([_("Figure"), _("This period"), _("Previous period"), _("Definition")])
    for value in figures.overview(scope):
        if keys is not None and value.figure.key not in keys:
            continue
        writer.writerow(
            [
                _csv_safe(str(value.figure.label)),
                not_reported if value.value is None else value.value,
                not_reported if value.previous is None else value.previous,
                _csv_safe(str(value.figure.definition)),
            ]
        )
    writer.writerow([])
    writer.writerow(
        [
            _("Day"),
            _("Likes"),
            _("Reposts"),
            _("Replies"),
            _("Quotes"),
            *(str(part.label) for part in figures.other_engagement_parts()),
            _("Engagements"),
            _("Followers"),
        ]
    )
    followers = {row["day"]: row["followers"] for row in dashboards.follower_series(scope)}
    for row in dashboards.engagement_series(scope):
        writer.writerow(
            [
                row["day"].isoformat(),
                row["likes"],
                row["reposts"],
                row["replies"],
                row["quotes"],
                *(row[part.key] for part in figures.other_engagement_parts()),
                row["total"],
                "" if followers[row["day"]] is None else followers[row["day"]],
            ]
        )


def _csv_safe(text: str) -> str:
    """Never a formula: spreadsheet apps run cells starting with = + - @."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def saved_report_csv(report: Report, scope: Scope) -> tuple[str, str]:
    """(file name, text) of a saved report over `scope` (its scope for one reader). The
    text starts with a byte-order mark, so spreadsheet apps read Thai and Khmer as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("Report"), _csv_safe(report.name)])
    if not (scope.daily().exists() or scope.published().exists()):
        writer.writerow([_("No figures for this period yet.")])
    write_report(writer, scope, keys=set(report.sections))
    name = f"chorus-report-{report.pk}-{scope.start.isoformat()}-{scope.end.isoformat()}.csv"
    return name, out.getvalue()
