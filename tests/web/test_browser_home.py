"""The overview of the demo workspace, in a real Chromium, with the sandbox network running."""

from __future__ import annotations

import pytest

from chorus.accounts.models import User
from tests.conftest import PASSWORD
from tests.sandbox.conftest import demo, sandbox  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_demo_overview_shows_the_day_the_week_approvals_and_punctuality(demo, page):  # noqa: F811
    user = User.objects.get(pk=demo.user_id)
    user.set_password(PASSWORD)
    user.save()
    page.goto("/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("h1:has-text('Mekong Coffee Co.')")

    assert page.locator("#checklist").count() == 0  # the demo has done every first step
    assert int(page.inner_text("#week-count")) >= 6
    # due in a minute: today, unless this runs at midnight in Phnom Penh
    soon = page.locator("[data-post]", has_text="Fresh Mondulkiri beans")
    assert soon.count() == 1
    assert soon.locator(".sandbox-badge").count() == 3  # each of its accounts is labelled
    assert int(page.inner_text("#waiting-count")) == 2
    assert page.locator("#approvals-waiting [data-post]").count() == 2
    assert page.inner_text("#attention-count") == "0"
    assert "posts published" in page.inner_text("#on-time")

    page.locator("#approvals-waiting [data-post] a").first.click()
    page.wait_for_url("**/posts/*/")
    assert page.locator(".sandbox-badge").count() >= 1
