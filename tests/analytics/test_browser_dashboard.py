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
    # Posted at a queue's three hours: the best cells are the same whatever the day of the run.
    seed_history([thai, khmer], posts_per_account=40, days=40, now=timezone.now(), queue_hours=3)

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


def test_competitors_side_by_side_with_table_views(signed_in_page, owner):
    from datetime import timedelta

    from chorus.analytics.models import Competitor, CompetitorDaily, CompetitorPost

    page = signed_in_page
    ours = account(owner.workspace, "กาแฟแม่โขง@example.social")
    seed_history([ours], posts_per_account=20, days=30, now=timezone.now())
    now = timezone.now()
    rival = Competitor.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        address="https://rival.example/@rival",
        remote_id="7",
        handle="rival@rival.example",
        reader_url="https://rival.example",
        display_name="ហាងកាហ្វេគូប្រជែង",
    )
    for days_ago in range(28):
        CompetitorDaily.objects.create(
            competitor=rival,
            day=(now - timedelta(days=days_ago)).date(),
            followers=900 + 28 - days_ago,
            following=10,
            posts=50,
            collected_at=now - timedelta(days=days_ago),
        )
    CompetitorPost.objects.create(
        competitor=rival,
        remote_id="71",
        text="ប្រូម៉ូសិនថ្មី",
        published_at=now - timedelta(days=2),
        collected_at=now,
        likes=40,
    )
    gone = Competitor.objects.create(
        workspace=owner.workspace,
        provider="bluesky",
        address="did:plc:gone",
        remote_id="did:plc:gone",
        handle="gone.example",
        reader_url="https://public.api.bsky.app",
        gone_at=now,
    )

    page.click("nav >> text=Analytics")
    page.click("#competitors-link")
    page.wait_for_selector("h1:has-text('Competitors')")
    chart = page.locator("#chart-competitor-followers")
    assert chart.locator("polyline.theirs").count() == 2 and chart.locator("polyline").count() == 3
    assert page.locator(".legend li", has_text="ហាងកាហ្វេគូប្រជែង").count() == 1
    table = page.locator("#chart-competitor-followers-table")
    assert not table.is_visible()
    page.locator("section:has(#chart-competitor-followers) summary").click()
    assert table.is_visible() and table.locator("tbody tr").count() == 28
    assert page.locator(f"#side-competitor-{gone.pk}").inner_text().count("No longer exists") == 1
    assert page.locator("#competitor-top-posts", has_text="ប្រូម៉ូសិនថ្មី").count() == 1
    assert page.locator("#chart-posts-per-week .bar-label").count() == 3
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    violations = axe_violations(page)  # WCAG 2.1 AA with every table view open
    assert not violations, report(page.url, violations)
