"""What the dashboards and saved reports draw: figures, chart geometry and lists for a
scope, shared by the pages, the PDF and the e-mailed reports (one computation)."""

from __future__ import annotations

from django.utils.formats import date_format, localize, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext

from chorus.analytics import charts, dashboards, figures
from chorus.analytics.models import COUNTS
from chorus.analytics.reports import CHARTS, SECTIONS

WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)


def heat_rows(grid, zone_note: str = "") -> list:
    """The heatmap's rows for the template: (weekday name, cells), each cell with its CSS
    level, its shown number and its spoken label, made here once rather than per template
    tag (168 cells)."""
    top = max((c.average or 0 for row in grid for c in row), default=0)
    rows = []
    for weekday, row in enumerate(grid):
        day = WEEKDAYS[weekday]
        cells = []
        for cell in row:
            label = ngettext(
                "%(day)s %(hour)02d:00: %(posts)d post, %(engagements)d engagements",
                "%(day)s %(hour)02d:00: %(posts)d posts, %(engagements)d engagements",
                cell.posts,
            ) % {
                "day": day,
                "hour": cell.hour,
                "posts": cell.posts,
                "engagements": cell.engagements,
            }
            shown = number_format(cell.average, 0) if cell.posts else ""
            cells.append((charts.heat_level(cell.average, top), shown, label))
        rows.append((day, cells))
    return rows


def _day_label(day) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _table_rows(labels: list[str], rows: list[list]) -> SafeString:
    """A chart's table view body: per day, its label as the row header and the numbers,
    built in one pass (a year-long period has 365 rows per chart, too many for template
    loops; each distinct number is formatted once). None: not read yet."""
    shown = {None: escape(gettext("not read yet"))}

    def cell(value) -> str:
        if value not in shown:
            shown[value] = escape(localize(value))
        return f'<td class="num">{shown[value]}</td>'

    return mark_safe(  # noqa: S308 (every label and number is escaped above)
        "".join(
            f'<tr><th scope="row">{escape(label)}</th>{"".join(cell(v) for v in values)}</tr>'
            for label, values in zip(labels, rows, strict=True)
        )
    )


def dashboard_context(scope, sections=None) -> dict:
    """The dashboard's figures, charts and lists; a saved report asks only for its
    `sections` (figure keys and chart names of chorus.analytics.reports.CHARTS)."""

    def wanted(name):
        return sections is None or name in sections

    context = {
        "has_data": scope.daily().exists() or scope.published().exists(),
        "no_accounts": not scope.account_ids,
        "shown": set(CHARTS) if sections is None else set(sections),
    }
    if wanted("heatmap"):  # first: the overview counts the period's posts from its grid
        context["heatmap"] = heat_rows(dashboards.heatmap(scope))
        context["hours"] = range(24)
    context["figures"] = [
        v for v in figures.overview(scope) if sections is None or v.figure.key in sections
    ]
    if wanted("engagement_chart"):
        series = dashboards.engagement_series(scope)
        labels = [_day_label(row["day"]) for row in series]
        others = figures.other_engagement_parts()
        context["other_parts"] = others
        context["series_rows"] = _table_rows(
            labels,
            [
                [*(row[n] for n in COUNTS), *(row[p.key] for p in others), row["total"]]
                for row in series
            ],
        )
        context["engagement_chart"] = charts.line_chart(labels, [row["total"] for row in series])
    if wanted("follower_chart"):
        followers = dashboards.follower_series(scope)
        labels = [_day_label(row["day"]) for row in followers]
        context["follower_rows"] = _table_rows(labels, [[row["followers"]] for row in followers])
        context["follower_chart"] = charts.line_chart(
            labels,
            [row["followers"] for row in followers],
            low=min((r["followers"] for r in followers if r["followers"] is not None), default=0),
        )
    if wanted("by_account"):
        accounts = dashboards.by_account(scope)
        context["by_account"] = accounts
        context["account_chart"] = charts.bar_chart([(b.label, b.value) for b in accounts])
    if wanted("by_network"):
        networks = dashboards.by_network(scope)
        context["by_network"] = networks
        context["network_chart"] = charts.bar_chart([(b.label, b.value) for b in networks])
    if wanted("top_posts"):
        context["best_posts"] = dashboards.ranked_posts(scope, best=True)
    if wanted("bottom_posts"):
        context["worst_posts"] = dashboards.ranked_posts(scope, best=False)
    context["extra_sections"] = [  # a saved report's sections from other apps (goals)
        {"template": section.template, "data": section.data(scope)}
        for key, section in SECTIONS.items()
        if sections is not None and key in sections
    ]
    return context


def report_context(membership, report) -> dict:
    """What a saved report shows for `membership`, over its period as of today (raises
    NotAllowed, naming the accounts, when the reader lacks analytics on one)."""
    from chorus.analytics.reports import report_scope

    scope = report_scope(membership=membership, report=report)
    context = {"report": report, "scope": scope}
    context.update(dashboard_context(scope, sections=set(report.sections)))
    return context
