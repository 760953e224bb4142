"""WCAG 2.1 AA on the links pages (axe-core, as in tests/a11y), with content on them."""

import datetime as dt

import pytest
from django.utils import timezone

from chorus.links import services
from chorus.links.models import Click
from tests.a11y.test_browser_a11y import axe_violations, report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_links_pages_have_no_wcag_violation(signed_in_page, owner, make_link):
    services.settings_update(
        actor=owner,
        track_links=True,
        utm_medium="social",
        attribution_days=7,
        store_ip=False,
        short_domain="",
    )
    link = make_link(owner.workspace)
    Click.objects.create(link=link, token="a11y", at=timezone.now())
    services.conversion_record(
        workspace=owner.workspace,
        source="api",
        order_id="o1",
        value=5,
        currency="THB",
        click_token="a11y",
    )
    services.conversion_record(workspace=owner.workspace, source="api", order_id="o2")
    today = timezone.localdate()
    goal = services.goal_save(
        actor=owner,
        name="Clicks",
        metric="clicks",
        starts_on=today - dt.timedelta(days=3),
        deadline=today + dt.timedelta(days=10),
        baseline_mode="entered",
        baseline=0,
        target_kind="absolute",
        target_value=50,
    )
    failures = []
    for url in [
        "/links/",
        "/links/settings/",
        "/links/conversions/",
        "/goals/",
        f"/goals/{goal.pk}/",
        f"/goals/{goal.pk}/edit/",
        "/links/value/",
        "/links/value/?figure=referral_visits&by=network",
        "/campaigns/plan/",
        "/",
        "/l/doesNotExist",
        "/posts/new/",
    ]:
        signed_in_page.goto(url)
        violations = axe_violations(signed_in_page)
        if violations:
            failures.append(report(url, violations))
    assert not failures, "\n".join(failures)
