"""Goals through the API (set, change, refusals), on the overview page and in reports."""

import datetime as dt

import pytest
from django.utils import timezone

from chorus.analytics import reports
from chorus.analytics.presentation import report_context
from chorus.links import services
from chorus.links.models import Goal

pytestmark = pytest.mark.django_db


def body(**extra):
    today = timezone.localdate()
    return {
        "name": "Sales",
        "metric": "conversions",
        "starts_on": today.isoformat(),
        "deadline": (today + dt.timedelta(days=30)).isoformat(),
        "baseline_mode": "entered",
        "baseline": "20",
        "target_kind": "percent",
        "target_value": "15",
        **extra,
    }


def test_goals_are_set_changed_and_refused_through_the_api(api, api_token_for, owner):
    token = api_token_for(owner)
    made = api.post("/goals", body(), token=token)
    assert made.status_code == 201 and made.json()["target"] == "23.00"
    goal_id = made.json()["id"]
    past = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    refused = api.put(f"/goals/{goal_id}", body(starts_on=past, deadline=past), token=token)
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["deadline"]
    below = api.post("/goals", body(target_kind="absolute", target_value="5"), token=token)
    assert below.status_code == 400 and "above the baseline" in below.json()["error"]["message"]
    changed = api.put(f"/goals/{goal_id}", body(name="More sales"), token=token)
    assert changed.status_code == 200 and changed.json()["name"] == "More sales"
    assert api.get(f"/goals/{goal_id}", token=token).json()["status"] in {"on_track", "at_risk"}
    assert api.delete(f"/goals/{goal_id}", token=token).status_code == 204
    assert not Goal.objects.exists()


def running_goal(owner):
    today = timezone.localdate()
    return services.goal_save(
        actor=owner,
        name="Clicks this month",
        metric="clicks",
        starts_on=today,
        deadline=today + dt.timedelta(days=9),
        baseline_mode="entered",
        baseline=0,
        target_kind="absolute",
        target_value=100,
    )


def test_running_goals_show_on_the_overview(client, owner):
    client.force_login(owner.user)
    assert b'id="home-goals"' not in client.get("/").content
    running_goal(owner)
    page = client.get("/").content.decode()
    assert 'id="home-goals"' in page and "Clicks this month" in page


def test_a_report_can_carry_a_goals_section(owner):
    running_goal(owner)
    assert ("goals", "Goals") in [(k, str(v)) for k, v in reports.section_choices()]
    report = reports.report_save(
        actor=owner, name="Monthly", sections=["goals"], period="last_28", account_ids=[]
    )
    context = report_context(owner, report)
    (section,) = context["extra_sections"]
    assert [item["goal"].name for item in section["data"]] == ["Clicks this month"]
