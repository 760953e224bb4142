"""Share links: read-only, without signing in, never indexed, expiring and revocable."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chorus.analytics import reports, sharing
from chorus.core.errors import NotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pinned(monkeypatch):
    monkeypatch.setattr(reports, "local_today", lambda workspace: date(2026, 12, 3))


@pytest.fixture
def report(owner, history):
    return reports.report_save(
        actor=owner,
        name="ស្វាគមន៍",
        sections=["likes", "engagement_chart"],
        period="last_month",
        account_ids=[history.pk],
    )


def test_a_share_link_shows_the_report_without_sign_in(owner, report):
    link, token = sharing.share_link_create(actor=owner, report=report, days=3)
    page = Client().get(f"/analytics/shared/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "ស្វាគមន៍" in html and 'id="chart-engagements"' in html
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "Content-Security-Policy" in page  # the app's security headers
    assert 'id="schedule-form"' not in html and 'id="share-form"' not in html


def test_expired_and_revoked_links_say_so(owner, report):
    link, token = sharing.share_link_create(actor=owner, report=report, days=1)
    link.expires_at = timezone.now() - timedelta(seconds=1)
    link.save()
    gone = Client().get(f"/analytics/shared/{token}/")
    assert gone.status_code == 410 and "expired" in gone.content.decode()
    link, token = sharing.share_link_create(actor=owner, report=report)
    sharing.share_link_revoke(actor=owner, link=link)
    revoked = Client().get(f"/analytics/shared/{token}/")
    assert revoked.status_code == 410 and "revoked" in revoked.content.decode()
    forged = Client().get(f"/analytics/shared/{token[:-2]}xx/")
    assert forged.status_code == 410 and "not valid" in forged.content.decode()


def test_only_editors_share_and_for_at_most_30_days(owner, make_member, report):
    with pytest.raises(NotAllowed):
        sharing.share_link_create(
            actor=make_member("contributor", workspace=owner.workspace), report=report
        )
    with pytest.raises(reports.BadReport):
        sharing.share_link_create(actor=owner, report=report, days=31)


def test_create_and_revoke_from_the_report_page(client, owner, report):
    client.force_login(owner.user)
    client.post(f"/analytics/reports/{report.pk}/share/", {"days": "5"})
    link = report.share_links.get()
    page = client.get(f"/analytics/reports/{report.pk}/").content.decode()
    assert 'id="share-links"' in page and "/analytics/shared/" in page
    client.post(f"/analytics/reports/{report.pk}/share/{link.pk}/revoke/")
    link.refresh_from_db()
    assert link.revoked_at is not None
