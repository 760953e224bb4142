"""Goals in the database: the prior-period baseline, refusals, pages; and the links pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from chorus.core.errors import ServiceError
from chorus.links import selectors, services
from chorus.links.models import Click, Goal

pytestmark = pytest.mark.django_db


def clicks_on(link, day: dt.date, count: int):
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    Click.objects.bulk_create([Click(link=link, token=f"{day}-{i}", at=at) for i in range(count)])


def test_the_baseline_is_the_prior_period_and_a_lower_target_is_refused(owner, make_link):
    link = make_link(owner.workspace)
    start = timezone.localdate() - dt.timedelta(days=2)
    clicks_on(link, start - dt.timedelta(days=5), 40)  # in the prior ten days
    clicks_on(link, start - dt.timedelta(days=20), 99)  # before them: not counted
    common = {
        "name": "Clicks up",
        "metric": "clicks",
        "starts_on": start,
        "deadline": start + dt.timedelta(days=9),
    }
    with pytest.raises(ServiceError) as refused:
        services.goal_save(actor=owner, target_kind="absolute", target_value=30, **common)
    assert refused.value.field == "target_value" and "40" in refused.value.message
    assert not Goal.objects.exists()
    goal = services.goal_save(actor=owner, target_kind="percent", target_value=50, **common)
    assert (goal.baseline, goal.target) == (Decimal(40), Decimal(60))


def test_a_passed_deadline_answers_missed_with_the_figures(client, owner, make_link):
    link = make_link(owner.workspace)
    start = timezone.localdate() - dt.timedelta(days=30)
    clicks_on(link, start + dt.timedelta(days=1), 5)
    common = {
        "actor": owner,
        "name": "Old push",
        "metric": "clicks",
        "starts_on": start,
        "baseline_mode": "entered",
        "baseline": 1,
        "target_kind": "absolute",
        "target_value": 20,
    }
    with pytest.raises(ServiceError) as refused:  # a new goal cannot end in the past
        services.goal_save(deadline=start + dt.timedelta(days=6), **common)
    assert refused.value.field == "deadline" and "deadline has passed" in refused.value.message
    goal = services.goal_save(deadline=timezone.localdate(), **common)
    Goal.objects.filter(pk=goal.pk).update(deadline=start + dt.timedelta(days=6))  # time passed
    goal.refresh_from_db()
    services.goal_save(goal=goal, deadline=goal.deadline, **common)  # still editable as it is
    progress = selectors.goal_progress(goal)
    assert progress.status == "missed" and progress.actual == 5
    client.force_login(owner.user)
    page = client.get(f"/goals/{goal.pk}/").content.decode()
    assert "Missed" in page and "The deadline has passed" in page


def test_the_goal_form_shows_refusals_on_their_field(client, owner):
    client.force_login(owner.user)
    today = timezone.localdate()
    response = client.post(
        "/goals/",
        {
            "name": "Backwards",
            "metric": "clicks",
            "campaign": "",
            "starts_on": today.isoformat(),
            "deadline": (today - dt.timedelta(days=1)).isoformat(),
            "baseline_mode": "entered",
            "baseline": "0",
            "target_kind": "absolute",
            "target_value": "10",
        },
    )
    assert response.status_code == 400
    assert b"The deadline must be on or after the start." in response.content


def test_link_pages_render_and_settings_save(client, owner, make_link):
    link = make_link(owner.workspace)
    client.force_login(owner.user)
    assert f"/l/{link.code}".encode() in client.get("/links/").content
    response = client.post(
        "/links/settings/",
        {
            "track_links": "on",
            "utm_medium": "social",
            "attribution_days": "14",
            "short_domain": "go.mekongcoffee.com",
        },
    )
    assert response.status_code == 302
    settings = services.link_settings_for(owner.workspace)
    assert settings.track_links and settings.attribution_days == 14
    page = client.get("/links/settings/").content.decode()
    assert settings.site_key in page and "chorus-conversions.js" in page
    bad = client.post("/links/settings/", {"utm_medium": "<b>", "attribution_days": "7"})
    assert bad.status_code == 400 and b"&lt;b&gt;" in bad.content
    assert client.get("/links/conversions/?show=unattributed").status_code == 200
