"""Figures, permissions and pages on known rows: each figure is what its definition says."""

from datetime import date

import pytest

from chorus.analytics import besttime, figures
from chorus.analytics.models import TrackedPost
from chorus.analytics.seed import seed_history
from chorus.analytics.selectors import access_scope
from chorus.core.errors import NotAllowed
from chorus.networks.models import AccountGrant
from tests.analytics.conftest import NOW, account, post

pytestmark = pytest.mark.django_db


def test_period_figures_follow_their_definitions(owner, history):
    scope = access_scope(membership=owner, start=date(2026, 11, 1), end=date(2026, 11, 30))
    run = {key: figure.run(scope) for key, figure in figures.FIGURES.items()}
    assert run["likes"] == 2 + 5 - 1  # activity in the period, whatever the post's date
    assert run["engagements"] == 6 + 1
    assert run["impressions"] is None  # not reported, never zero
    assert run["followers"] == 125
    assert run["follower_growth"] == 25  # against the day before the period
    assert run["posts_published"] == 1
    assert run["posting_frequency"] == round(7 / 30, 1)
    assert run["engagement_rate"] == round(7 * 100 / 125, 2)  # per follower
    # The previous period is 2 to 31 October: the old post's first day (1 October) is not in it.
    assert figures.FIGURES["engagements"].compare(scope).previous == 0
    earlier = access_scope(membership=owner, start=date(2026, 10, 1), end=date(2026, 10, 31))
    assert figures.FIGURES["engagements"].run(earlier) == 10


def test_lifetime_figures_of_a_post(history):
    old = TrackedPost.objects.get(account=history, likes=10)
    lifetime = dict((f.key, value) for f, value in figures.of_post(old))
    assert lifetime["engagements"] == 12 and lifetime["impressions"] is None
    assert lifetime["engagement_rate"] == round(12 * 100 / 125, 2)


def test_a_member_sees_only_accounts_with_the_analytics_level(owner, make_member, history):
    other = account(owner.workspace, "other@example.social")
    editor = make_member("editor", workspace=owner.workspace)
    AccountGrant.every.create(socialaccount=history, membership=editor, analytics=True)
    AccountGrant.every.create(socialaccount=other, membership=editor, publish=True)
    assert access_scope(membership=editor).account_ids == (history.pk,)
    with pytest.raises(NotAllowed) as refused:
        access_scope(membership=editor, account_ids=[other.pk])
    assert "other@example.social" in refused.value.message


def test_dashboard_page_shows_figures_charts_and_table_views(client, owner, history):
    client.force_login(owner.user)
    page = client.get("/analytics/?start=2026-11-01&end=2026-11-30")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="figure-impressions"' in html and "not reported" in html
    assert 'id="chart-engagements"' in html and 'id="chart-engagements-table"' in html
    assert 'id="heatmap"' in html and "brand@example.social" in html


def test_an_empty_period_and_a_refused_account_get_clear_answers(
    client, owner, make_member, history
):
    client.force_login(owner.user)
    empty = client.get("/analytics/?start=2020-01-01&end=2020-01-31")
    assert empty.status_code == 200 and 'id="analytics-empty"' in empty.content.decode()
    backwards = client.get("/analytics/?start=2026-11-30&end=2026-11-01")
    assert "ends before it starts" in backwards.content.decode()
    viewer = make_member("viewer", workspace=owner.workspace)
    client.force_login(viewer.user)
    refused = client.get(f"/analytics/?account={history.pk}")
    assert refused.status_code == 403
    assert "do not have analytics on brand@example.social" in refused.content.decode()


def test_csv_report_has_figures_and_days_and_never_formulas(client, owner, history):
    client.force_login(owner.user)
    report = client.get("/analytics/report.csv?start=2026-11-01&end=2026-11-30")
    text = report.content.decode("utf-8-sig")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    assert "Engagements,7,0" in text.replace("\r", "")
    assert "Impressions,not reported,not reported" in text.replace("\r", "")
    assert "2026-11-21,2,0,0,0,0,2,110" in text.replace("\r", "")  # link clicks: 0


def test_best_time_is_a_labelled_default_without_history_then_learnt(owner, history):
    few = besttime.best_times(history, zone="Asia/Bangkok", now=NOW)
    assert few.is_default and few.posts == 2
    seed_history([history], posts_per_account=120, days=90, now=NOW, zone="Asia/Bangkok")
    learnt = besttime.best_times(history, zone="Asia/Bangkok", now=NOW)
    assert not learnt.is_default and len(learnt.suggestions) == 3
    assert all(s.confidence in ("high", "medium") for s in learnt.suggestions)
    best = learnt.suggestions[0]
    cell = learnt.grid[best.weekday][best.hour]
    assert best.average == max(c.average or 0 for row in learnt.grid for c in row if c.posts >= 3)
    assert cell.posts == best.posts


def test_heatmap_cells_are_in_the_workspace_time_zone(owner, history):
    from datetime import UTC, datetime

    from chorus.analytics.grids import weekday_hour

    # 02:30 UTC on Monday 30 November is 09:30 in Bangkok (UTC+7): Monday, hour 9.
    post(history, datetime(2026, 11, 30, 2, 30, tzinfo=UTC), likes=3, quotes=1)
    grid = weekday_hour(TrackedPost.objects.filter(account=history), "Asia/Bangkok")
    assert grid[0][9].posts == 1 and grid[0][9].engagements == 4
    assert grid[0][2].posts == 0
    # The two fixture posts went out at 09:00 UTC on a Thursday and a Friday: 16:00 there.
    assert grid[3][16].posts == 1 and grid[4][16].posts == 1


def test_link_clicks_count_among_engagements(owner, history, client):
    from datetime import UTC, datetime

    from chorus.analytics import dashboards
    from chorus.links.models import Click, ShortLink

    link = ShortLink.objects.create(
        workspace=owner.workspace,
        code="clk1",
        target="https://shop.example/item",
        original_url="https://shop.example/item",
        account=history,
        network="mastodon",
    )
    for n, at in enumerate(
        (datetime(2026, 11, 21, 10, tzinfo=UTC), datetime(2026, 11, 21, 11, tzinfo=UTC))
    ):
        Click.objects.create(link=link, token=f"t{n}", at=at)
    Click.objects.create(link=link, token="before", at=datetime(2026, 10, 30, tzinfo=UTC))
    scope = access_scope(membership=owner, start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert figures.FIGURES["link_clicks"].run(scope) == 2
    assert figures.FIGURES["engagements"].run(scope) == 7 + 2
    assert figures.FIGURES["engagement_rate"].run(scope) == round(9 * 100 / 125, 2)
    day = {row["day"]: row for row in dashboards.engagement_series(scope)}[date(2026, 11, 21)]
    assert day["link_clicks"] == 2 and day["total"] == 2 + 2  # a like gained that day too
    # A post found by the backfill has no short links: "not counted", not zero clicks.
    old = TrackedPost.objects.get(account=history, likes=10)
    assert dict((f.key, v) for f, v in figures.of_post(old))["engagements"] == 12
    assert figures.FIGURES["link_clicks"].lifetime(old) is None

    client.force_login(owner.user)
    html = client.get("/analytics/?start=2026-11-01&end=2026-11-30").content.decode()
    assert 'id="figure-link_clicks"' in html and "Link clicks" in html
