"""The dashboard in a real Chromium: charts drawn, their table views, the heatmap, best times;
labels in Thai and Khmer, and no Content-Security-Policy violation (the `page` fixture)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chorus.analytics.seed import seed_history
from tests.a11y.test_browser_a11y import axe_violations, report
from tests.analytics.conftest import account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_chart_table_view_and_heatmap(signed_in_page, owner):
    page = signed_in_page
    thai = account(owner.workspace, "กาแฟแม่โขง@example.social")
    khmer = account(owner.workspace, "កាហ្វេមេគង្គ@example.social")
    seed_history([thai, khmer], posts_per_account=40, days=40, now=timezone.now())

    page.click("nav >> text=Analytics")
    page.wait_for_selector("h1:has-text('Analytics')")
    assert page.locator("#chart-engagements polyline").is_visible()
    assert page.locator("#chart-engagements circle").count() == 28  # one per day
    table = page.locator("#chart-engagements-table")
    assert not table.is_visible()
    page.locator("section:has(#chart-engagements) summary:has-text('Table view')").click()
    assert table.is_visible() and table.locator("tbody tr").count() == 28

    bars = page.locator("#chart-accounts")
    assert bars.locator(".bar-label", has_text="กาแฟแม่โขง@example.social").count() == 1
    assert bars.locator(".bar-label", has_text="កាហ្វេមេគង្គ@example.social").count() == 1
    assert page.locator("#heatmap tbody tr").count() == 7
    assert page.locator("#heatmap td.heat-4").count() >= 1  # the best cell
    assert page.locator("#figure-impressions").inner_text().count("not reported") >= 1

    page.locator("section:has(#chart-accounts) summary:has-text('Table view')").click()
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    violations = axe_violations(page)  # WCAG 2.1 AA with every table view open
    assert not violations, report(page.url, violations)
    page.locator("#chart-accounts-table a", has_text="កាហ្វេមេគង្គ").click()
    page.wait_for_url(f"**/analytics/?account={khmer.pk}")
    assert page.locator("#id_account option:checked").inner_text().startswith("កាហ្វេ")

    page.click("text=Best times to post")
    page.wait_for_selector("#best-time-heatmap")
    assert page.locator("#best-time-suggestions li").count() == 3
    violations = axe_violations(page)
    assert not violations, report(page.url, violations)
