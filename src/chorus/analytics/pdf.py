"""Saved reports as PDF, drawn by WeasyPrint from the report page's own templates.

The SVG charts go in with their own colours (SVG_CSS). Labels are set in Noto Sans, with
the Thai, Khmer and Armenian faces after it (Debian's fonts-noto-core, installed by
scripts/bootstrap), so account names and dates in those scripts are shaped by Pango, not
left as boxes.
WeasyPrint fetches nothing: the page has no outside resource, and the stylesheet is read
from the app's static files here.
"""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.translation import get_language

from chorus.analytics.presentation import report_context

FONTS = '"Noto Sans", "Noto Sans Thai", "Noto Sans Khmer", "Noto Sans Armenian", sans-serif'
PRINT_CSS = f"""
@page {{ size: A4; margin: 16mm 14mm; }}
body {{ font-family: {FONTS}; font-size: 10pt; color: #111; }}
svg text {{ font-family: {FONTS}; }}
section {{ margin-bottom: 8mm; }}
/* A chart stays whole and with its heading; its table view may run on (a section kept
   whole would push a month's chart and table past a blank first page). */
svg, h2 {{ break-inside: avoid; }}
h2 {{ break-after: avoid; }}
details > summary {{ display: none; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: 1mm 2mm; text-align: start; }}
.visually-hidden {{ display: none; }}
"""


# WeasyPrint styles inline SVG only from a <style> inside it, and without CSS variables:
# the page's rules (analytics.css) would leave the charts black, their lines filled. Each
# chart gets these, the web's colours spelled out (rendering page 1 in the tests checks it).
SVG_CSS = f"""<style>
text {{ font-family: {FONTS}; }}
.grid-line {{ stroke: #dfe3ea; stroke-width: 1; }}
.axis {{ fill: #5d6778; font-size: 11px; }}
.line {{ fill: none; stroke: #3b5bdb; stroke-width: 2; }}
.dot, .bar {{ fill: #3b5bdb; }}
.bar-label {{ fill: #1d2330; font-size: 13px; }}
.bar-value {{ fill: #5d6778; font-size: 12px; }}
</style>"""
_SVG_OPEN = re.compile(r"(<svg\b[^>]*>)")


def _refuse(url: str, *args, **kwargs):
    """Nothing in a report is fetched (user text is escaped; this is the second lock)."""
    raise ValueError(f"a report PDF fetches nothing: {url[:80]}")


def report_pdf(*, membership, report) -> tuple[str, bytes]:
    """(file name, PDF bytes) of `report` as `membership` may read it, in the active
    language. Raises NotAllowed like the page."""
    from weasyprint import CSS, HTML  # loaded on use: pango is only needed for PDFs

    context = report_context(membership, report)
    context["language"] = get_language()
    html = _SVG_OPEN.sub(
        lambda m: m.group(1) + SVG_CSS, render_to_string("analytics/report_pdf.html", context)
    )
    sheets = [CSS(string=PRINT_CSS)]
    css = finders.find("chorus/analytics.css")
    if css:
        sheets.insert(0, CSS(filename=css, url_fetcher=_refuse))
    pdf = HTML(string=html, url_fetcher=_refuse).write_pdf(stylesheets=sheets)
    scope = context["scope"]
    name = f"chorus-report-{report.pk}-{scope.start.isoformat()}-{scope.end.isoformat()}.pdf"
    return name, pdf
