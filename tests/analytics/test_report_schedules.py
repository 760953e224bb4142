"""Scheduled delivery: local times (DST gaps included), recipients, languages, e-mails."""

from datetime import UTC, date, datetime, time

import pytest
from django.core import mail

from chorus.analytics import reports, schedules
from chorus.analytics.models import ReportSchedule
from chorus.core.errors import NotAllowed
from chorus.networks.models import AccountGrant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pinned(monkeypatch, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setattr(reports, "local_today", lambda workspace: date(2026, 12, 3))


@pytest.fixture
def report(owner, history):
    owner.workspace.timezone = "Europe/Berlin"
    owner.workspace.save()
    return reports.report_save(
        actor=owner,
        name="สรุปรายเดือน",
        sections=["likes", "engagement_chart"],
        period="last_month",
        account_ids=[history.pk],
    )


def test_a_time_in_the_spring_gap_moves_to_the_next_valid_minute():
    # Europe/Berlin skips 02:00-03:00 on 29 March 2026.
    moment = schedules.local_moment(date(2026, 3, 29), time(2, 30), "Europe/Berlin")
    assert moment.isoformat() == "2026-03-29T03:00:00+02:00"
    # The autumn repeat (25 October 2026, 02:30 twice) is sent at the first one.
    moment = schedules.local_moment(date(2026, 10, 25), time(2, 30), "Europe/Berlin")
    assert moment.astimezone(UTC).isoformat() == "2026-10-25T00:30:00+00:00"


def test_weekly_and_monthly_next_runs(owner, report):
    after = datetime(2026, 3, 23, 12, tzinfo=UTC)  # a Monday
    weekly = ReportSchedule(report=report, frequency="weekly", weekday=6, local_time=time(2, 30))
    assert schedules.next_run(weekly, "Europe/Berlin", after).isoformat() == (
        "2026-03-29T03:00:00+02:00"
    )
    monthly = ReportSchedule(
        report=report, frequency="monthly", day_of_month=31, local_time=time(8)
    )
    # February has no 31st: its last day is used.
    assert schedules.next_run(monthly, "Europe/Berlin", datetime(2026, 2, 1, tzinfo=UTC)) == (
        datetime(2026, 2, 28, 7, tzinfo=UTC)
    )


def test_bad_recipients_are_refused_by_name(owner, report):
    with pytest.raises(reports.BadReport) as bad:
        schedules.schedule_save(
            actor=owner,
            report=report,
            frequency="weekly",
            local_time=time(9),
            outside_emails=["boss@example.org", "not an address"],
        )
    assert "not an address" in bad.value.message
    with pytest.raises(reports.BadReport):
        schedules.schedule_save(actor=owner, report=report, frequency="weekly", local_time=time(9))
    assert not ReportSchedule.objects.exists()


def test_a_contributor_cannot_schedule(owner, make_member, report):
    contributor = make_member("contributor", workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        schedules.schedule_save(
            actor=contributor,
            report=report,
            frequency="weekly",
            local_time=time(9),
            outside_emails=["a@example.org"],
        )


def test_due_reports_are_mailed_in_each_members_language(owner, make_member, history, report):
    thai = make_member("viewer", workspace=owner.workspace)
    thai.user.language = "th"
    thai.user.save()
    AccountGrant.every.create(socialaccount=history, membership=thai, analytics=True)
    blind = make_member("viewer", workspace=owner.workspace)  # no analytics: not sent
    created = datetime(2026, 12, 1, 12, tzinfo=UTC)
    schedule = schedules.schedule_save(
        actor=owner,
        report=report,
        frequency="weekly",
        weekday=3,  # Thursday 3 December 2026
        local_time=time(9),
        member_ids=[thai.pk, blind.pk],
        outside_emails=["Client@Example.org", "client@example.org"],
        now=created,
    )
    assert schedule.outside_emails == ["Client@Example.org"]
    assert schedule.next_run_at == datetime(2026, 12, 3, 8, tzinfo=UTC)
    assert schedules.send_due(datetime(2026, 12, 3, 7, 59, tzinfo=UTC)) == 0
    assert schedules.send_due(datetime(2026, 12, 3, 8, 1, tzinfo=UTC)) == 2
    by_to = {tuple(m.to): m for m in mail.outbox}
    assert set(by_to) == {(thai.user.email,), ("Client@Example.org",)}
    thai_mail = by_to[(thai.user.email,)]
    assert thai_mail.subject.startswith("รายงาน")
    name, pdf, mime = thai_mail.attachments[0]
    assert mime == "application/pdf" and pdf.startswith(b"%PDF") and name.endswith(".pdf")
    schedule.refresh_from_db()
    assert schedule.next_run_at == datetime(2026, 12, 10, 8, tzinfo=UTC)
    assert schedules.send_due(datetime(2026, 12, 3, 8, 2, tzinfo=UTC)) == 0  # sent once


def test_schedule_from_the_report_page(client, owner, report):
    client.force_login(owner.user)
    page = client.get(f"/analytics/reports/{report.pk}/").content.decode()
    assert 'id="schedule-form"' in page
    bad = client.post(
        f"/analytics/reports/{report.pk}/schedules/",
        {
            "frequency": "monthly",
            "weekday": 0,
            "day_of_month": 31,
            "local_time": "02:30",
            "outside_emails": "ok@example.org\nnope",
        },
    )
    assert bad.status_code == 400 and "“nope” is not an e-mail address." in bad.content.decode()
    done = client.post(
        f"/analytics/reports/{report.pk}/schedules/",
        {
            "frequency": "monthly",
            "weekday": 0,
            "day_of_month": 31,
            "local_time": "02:30",
            "outside_emails": "ok@example.org",
            "members": [owner.pk],
        },
    )
    assert done.status_code == 302
    schedule = ReportSchedule.objects.get()
    assert schedule.day_of_month == 31 and list(schedule.members.all()) == [owner]
    assert (
        'id="report-schedules"' in client.get(f"/analytics/reports/{report.pk}/").content.decode()
    )
    client.post(f"/analytics/reports/{report.pk}/schedules/{schedule.pk}/delete/")
    assert not ReportSchedule.objects.exists()
