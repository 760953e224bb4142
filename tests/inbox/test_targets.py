"""Response-target warnings: business-hours arithmetic and who is told, once per stage."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from chorus.accounts.models import Notification
from chorus.inbox import ingest, targets
from chorus.inbox.models import Conversation, InboxSettings
from tests.inbox.conftest import item, page

BANGKOK = zoneinfo.ZoneInfo("Asia/Bangkok")
WEEKDAYS = {str(d): ["09:00", "17:00"] for d in range(5)}


def _hours(raw=WEEKDAYS):
    return targets.Hours(targets.parse_hours(raw), BANGKOK)


def test_a_message_on_friday_evening_is_due_on_monday():
    friday_evening = datetime(2026, 12, 4, 19, 30, tzinfo=BANGKOK)  # a Friday
    due = targets.add_business_time(friday_evening, timedelta(minutes=60), _hours())
    assert due.astimezone(BANGKOK) == datetime(2026, 12, 7, 10, 0, tzinfo=BANGKOK)


def test_open_time_is_counted_across_days_and_around_the_clock_without_hours():
    thursday_late = datetime(2026, 12, 3, 16, 30, tzinfo=BANGKOK)
    due = targets.add_business_time(thursday_late, timedelta(minutes=90), _hours())
    assert due.astimezone(BANGKOK) == datetime(2026, 12, 4, 10, 0, tzinfo=BANGKOK)
    early = datetime(2026, 12, 3, 7, 0, tzinfo=BANGKOK)
    due = targets.add_business_time(early, timedelta(minutes=30), _hours())
    assert due.astimezone(BANGKOK).time() == time(9, 30)
    assert targets.add_business_time(early, timedelta(hours=3), _hours({})) == early + timedelta(
        hours=3
    )
    assert targets.parse_hours({"0": ["17:00", "09:00"], "9": ["09:00", "10:00"], "x": 1}) == {}


@pytest.mark.django_db(transaction=True)
def test_the_assignee_or_the_admins_are_warned_once_per_stage(account, owner, make_member):
    admin = make_member("admin", workspace=owner.workspace, email="admin@example.org")
    editor = make_member("editor", workspace=owner.workspace, email="ed@example.org")
    arrived = timezone.now() - timedelta(minutes=50)
    ingest.store_page(account, page(item(1, minutes_ago=50)), now=timezone.now())
    ingest.store_page(
        account, page(item(2, author="bo@x", subject="200", minutes_ago=50)), now=timezone.now()
    )
    InboxSettings.objects.update_or_create(
        workspace=owner.workspace, defaults={"first_response_minutes": 60}
    )
    mine, theirs = Conversation.objects.order_by("pk")
    Conversation.objects.filter(pk=mine.pk).update(assignee=editor, created_at=arrived)
    Conversation.objects.filter(pk=theirs.pk).update(created_at=arrived)
    mail.outbox.clear()

    assert targets.warn_due() == 2  # 50 of 60 minutes: nearing, for both
    assert targets.warn_due() == 0  # never twice
    told = sorted(Notification.objects.values_list("user__email", flat=True))
    assert told == sorted([editor.user.email, owner.user.email, admin.user.email])
    assert "needs a first response" in Notification.objects.filter(user=editor.user).get().message
    assert len(mail.outbox) == 3

    later = timezone.now() + timedelta(minutes=15)
    assert targets.warn_due(later) == 2  # past the target
    assert targets.warn_due(later) == 0
    past = Notification.objects.filter(user=editor.user, message__contains="past the")
    assert past.count() == 1
    assert set(Conversation.objects.values_list("target_stage", flat=True)) == {targets.PAST}


@pytest.mark.django_db
def test_business_hours_are_set_on_the_setup_page_and_the_list_shows_timers(client, owner, account):
    client.force_login(owner.user)
    form = {"first_response_minutes": "30", "opens_0": "09:00", "closes_0": "17:00"}
    client.post("/inbox/setup/target/", form)
    settings = InboxSettings.objects.get(workspace=owner.workspace)
    assert settings.first_response_minutes == 30
    assert settings.business_hours == {"0": ["09:00", "17:00"]}
    client.post("/inbox/setup/target/", {**form, "closes_0": ""})  # half a day: refused
    assert InboxSettings.objects.get(pk=settings.pk).business_hours == {"0": ["09:00", "17:00"]}
    client.post("/inbox/setup/target/", {"first_response_minutes": "30"})  # around the clock
    assert InboxSettings.objects.get(pk=settings.pk).business_hours == {}

    ingest.store_page(account, page(item(1, minutes_ago=45)), now=timezone.now())
    ingest.store_page(
        account, page(item(2, author="bo@x", subject="9", minutes_ago=1)), now=timezone.now()
    )
    body = client.get("/inbox/").content.decode()
    assert 'data-stage="2"' in body and "Overdue by" in body
    assert 'data-stage="0"' in body and "Reply within" in body
