"""Saved reports: built from the registry, read with the dashboards' own code, per reader."""

import csv
import io
from datetime import date

import pytest

from chorus.analytics import reports
from chorus.analytics.models import Report
from chorus.core.errors import NotAllowed
from chorus.networks.models import AccountGrant
from tests.analytics.conftest import account

pytestmark = pytest.mark.django_db

DECEMBER = date(2026, 12, 3)


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr(reports, "local_today", lambda workspace: DECEMBER)


def make_report(owner, history, **extra):
    values = {
        "name": "Monthly ស្វាគមន៍ สวัสดี",
        "sections": ["likes", "followers", "engagement_chart", "top_posts"],
        "period": "last_month",
        "account_ids": [history.pk],
    }
    values.update(extra)
    return reports.report_save(actor=owner, **values)


def test_periods_are_whole_local_days_up_to_yesterday():
    assert reports.period_dates("last_7", DECEMBER) == (date(2026, 11, 26), date(2026, 12, 2))
    assert reports.period_dates("last_28", DECEMBER) == (date(2026, 11, 5), date(2026, 12, 2))
    assert reports.period_dates("last_90", DECEMBER) == (date(2026, 9, 4), date(2026, 12, 2))
    assert reports.period_dates("last_month", DECEMBER) == (date(2026, 11, 1), date(2026, 11, 30))
    assert reports.period_dates("last_month", date(2026, 1, 1)) == (
        date(2025, 12, 1),
        date(2025, 12, 31),
    )


def test_sections_come_from_the_figure_registry_and_the_charts(owner, history):
    keys = [key for key, _label in reports.section_choices()]
    assert "engagement_rate" in keys and "heatmap" in keys
    with pytest.raises(reports.BadReport):
        make_report(owner, history, sections=["made_up"])
    with pytest.raises(reports.BadReport):
        make_report(owner, history, sections=[])
    with pytest.raises(reports.BadReport):
        make_report(owner, history, name="  ")


def test_report_page_shows_its_sections_with_the_dashboard_numbers(client, owner, history):
    report = make_report(owner, history)
    client.force_login(owner.user)
    html = client.get(f"/analytics/reports/{report.pk}/").content.decode()
    dashboard = client.get("/analytics/?start=2026-11-01&end=2026-11-30").content.decode()
    assert 'id="figure-likes"' in html and 'id="figure-followers"' in html
    assert 'id="figure-impressions"' not in html  # not chosen
    assert 'id="chart-engagements"' in html and 'id="chart-followers"' not in html
    assert 'id="top-posts"' in html and 'id="bottom-posts"' not in html
    # The same code draws the same chart.
    start = dashboard.index('id="chart-engagements"')
    chart = dashboard[start : dashboard.index("</svg>", start)]
    assert chart in html


def test_csv_of_a_saved_report(client, owner, history):
    report = make_report(owner, history)
    client.force_login(owner.user)
    response = client.get(f"/analytics/reports/{report.pk}/report.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Report", "Monthly ស្វាគមន៍ สวัสดี"]
    assert rows[1] == ["Period", "2026-11-01", "2026-11-30"]
    figures = {row[0]: row[1] for row in rows[3:] if len(row) == 4}
    assert figures == {"Likes": "6", "Followers": "125"}


def test_a_period_with_no_data_says_so(client, owner, history):
    report = make_report(owner, history, period="last_7")
    client.force_login(owner.user)
    html = client.get(f"/analytics/reports/{report.pk}/").content.decode()
    assert 'id="analytics-empty"' in html
    rows = client.get(f"/analytics/reports/{report.pk}/report.csv").content.decode("utf-8-sig")
    assert "No figures for this period yet." in rows


def test_a_reader_without_analytics_on_the_accounts_is_refused_by_name(
    client, owner, make_member, history
):
    report = make_report(owner, history)
    viewer = make_member("viewer", workspace=owner.workspace)
    client.force_login(viewer.user)
    page = client.get(f"/analytics/reports/{report.pk}/")
    assert page.status_code == 403 and "brand@example.social" in page.content.decode()
    assert client.get(f"/analytics/reports/{report.pk}/report.csv").status_code == 403
    with pytest.raises(NotAllowed):
        reports.report_scope(membership=viewer, report=report)
    # With the level, the same report opens.
    AccountGrant.every.create(socialaccount=history, membership=viewer, analytics=True)
    assert client.get(f"/analytics/reports/{report.pk}/").status_code == 200


def test_an_all_accounts_report_shows_each_reader_their_own(owner, make_member, history):
    other = account(owner.workspace, "other@example.social")
    report = make_report(owner, history, account_ids=[])
    viewer = make_member("viewer", workspace=owner.workspace)
    AccountGrant.every.create(socialaccount=other, membership=viewer, analytics=True)
    owners = reports.report_scope(membership=owner, report=report).account_ids
    assert set(owners) == {history.pk, other.pk}
    assert reports.report_scope(membership=viewer, report=report).account_ids == (other.pk,)


def test_a_member_cannot_save_a_report_on_accounts_they_cannot_see(owner, make_member, history):
    editor = make_member("editor", workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        make_report(editor, history, account_ids=[history.pk])
    assert not Report.objects.exists()


def test_builder_saves_changes_and_deletes(client, owner, make_member, history):
    client.force_login(owner.user)
    page = client.get("/analytics/reports/")
    assert page.status_code == 200 and 'id="no-reports"' in page.content.decode()
    response = client.post(
        "/analytics/reports/",
        {"name": "Weekly", "sections": ["likes", "heatmap"], "period": "last_7"},
    )
    report = Report.objects.get()
    assert response.status_code == 302 and report.sections == ["likes", "heatmap"]
    bad = client.post("/analytics/reports/", {"name": "", "sections": [], "period": "last_7"})
    assert bad.status_code == 400 and Report.objects.count() == 1
    client.post(
        f"/analytics/reports/{report.pk}/edit/",
        {"name": "Weekly 2", "sections": ["reposts"], "period": "last_28"},
    )
    report.refresh_from_db()
    assert (report.name, report.sections, report.period) == ("Weekly 2", ["reposts"], "last_28")
    # A contributor may read reports but not build, change or delete them.
    contributor = make_member("contributor", workspace=owner.workspace)
    client.force_login(contributor.user)
    assert 'id="report-form"' not in client.get("/analytics/reports/").content.decode()
    refused = client.post(
        "/analytics/reports/", {"name": "Mine", "sections": ["likes"], "period": "last_7"}
    )
    assert refused.status_code == 403 and Report.objects.count() == 1
    assert client.get(f"/analytics/reports/{report.pk}/edit/").status_code == 403
    assert client.post(f"/analytics/reports/{report.pk}/delete/").status_code == 403
    client.force_login(owner.user)
    assert client.post(f"/analytics/reports/{report.pk}/delete/").status_code == 302
    assert not Report.objects.exists()


def test_api_lists_reports_and_downloads_their_csv(api, api_token_for, owner, make_member, history):
    from chorus.accounts.scopes import Scope

    report = make_report(owner, history)
    token = api_token_for(owner, [Scope.ANALYTICS_READ])
    listed = api.get("/analytics/reports", token=token).json()
    assert [(r["id"], r["period"], r["accounts"]) for r in listed] == [
        (report.pk, "last_month", [history.pk])
    ]
    answer = api.get(f"/analytics/reports/{report.pk}/csv", token=token)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert "Followers,125" in answer.content.decode("utf-8-sig")
    pdf = api.get(f"/analytics/reports/{report.pk}/pdf", token=token)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    viewer = make_member("viewer", workspace=owner.workspace)
    refused = api.get(
        f"/analytics/reports/{report.pk}/csv", token=api_token_for(viewer, [Scope.ANALYTICS_READ])
    )
    assert refused.status_code == 403
    assert (
        api.get(
            "/analytics/reports", token=api_token_for(owner, [Scope.WORKSPACE_READ])
        ).status_code
        == 403
    )


def test_pdf_has_the_chart_and_thai_khmer_and_armenian_text(client, owner, history):
    import pypdf

    history.handle = "ร้านกาแฟ@example.social"
    history.display_name = "ហាងកាហ្វេ Սրճարան"
    history.save()
    report = make_report(owner, history, sections=["likes", "by_account", "engagement_chart"])
    client.force_login(owner.user)
    response = client.get(f"/analytics/reports/{report.pk}/report.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    document = pypdf.PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in document.pages)
    squeezed = "".join(text.split())
    assert "สวัสดี" in squeezed and "ស្វាគមន៍" in squeezed  # the report's name
    assert "ร้านกาแฟ" in squeezed  # the account's label in the bar chart and its table
    assert "Likes" in text
    # The engagement line (30 days: 29 segments) is drawn as vector path, as the SVG was.
    content = b"".join(page.get_contents().get_data() for page in document.pages)
    assert content.count(b" l\n") >= 29
    fonts = {
        str(font.get_object().get("/BaseFont"))
        for page in document.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
    }
    assert any("Thai" in f for f in fonts) and any("Khmer" in f for f in fonts), fonts


def test_pdf_is_refused_by_name_without_analytics(client, owner, make_member, history):
    report = make_report(owner, history)
    client.force_login(make_member("viewer", workspace=owner.workspace).user)
    refused = client.get(f"/analytics/reports/{report.pk}/report.pdf")
    assert refused.status_code == 403 and "brand@example.social" in refused.content.decode()


def test_the_pdfs_first_page_shows_the_chart_when_rendered(client, owner, history):
    """Rendered to pixels (PDFium, as a PDF viewer does), page 1 carries the drawn chart:
    the engagement line and the bars in the accent colour, not only the chart's text."""
    import pypdfium2

    report = make_report(owner, history, sections=["by_account", "engagement_chart"])
    client.force_login(owner.user)
    response = client.get(f"/analytics/reports/{report.pk}/report.pdf")
    assert response.status_code == 200
    document = pypdfium2.PdfDocument(response.content)
    image = document[0].render(scale=2).to_pil().convert("RGB")
    accent = (0x3B, 0x5B, 0xDB)  # --accent: the line, its dots and the bars

    def near(pixel):
        return all(abs(a - b) <= 40 for a, b in zip(pixel, accent, strict=True))

    width, height = image.size
    pixels = image.load()
    drawn = [(x, y) for y in range(0, height, 2) for x in range(0, width, 2) if near(pixels[x, y])]
    assert len(drawn) > 200, f"{len(drawn)} accent pixels on page 1"
    xs = sorted(x for x, _y in drawn)
    assert xs[-1] - xs[0] > width / 3  # spread across the page: a chart, not a stray mark
