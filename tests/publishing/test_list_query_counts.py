"""Every list page and list endpoint runs the same number of queries at two data sizes: an
N+1 (a query per post, per account, per member, per variant) makes these fail.

Two agency workspaces are seeded by `chorus.testing.load.seed_agency`, the bench's own seeding:
a small one and one with five times the posts, three times the accounts and more posts
waiting for approval. Each page is asked once in each, as each workspace's owner.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chorus.accounts import services as account_services
from chorus.accounts.scopes import Scope
from chorus.publishing import services
from chorus.testing.load import seed_agency
from chorus.testing.load_activity import seed_activity

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/calendar/?view=month&date={busy}",
    "/calendar/?view=week&date={busy}",
    "/calendar/?view=day&date={busy}",
    "/calendar/?view=list&date={busy}",
    "/calendar/?view=list&date={busy}&status=scheduled",
    "/calendar/?view=list&date={busy}&account={account}",
    "/campaigns/",
    "/posts/new/",
    "/queue/",
    "/on-time/",
    "/approvals/",
    "/social-accounts/",
    "/members/",
    "/governance/policies/",
    "/api/v1/posts",
    "/api/v1/posts?page_size=200",
    "/api/v1/posts?account={account}&status=published",
    "/api/v1/campaigns",
    "/api/v1/on-time",
    "/api/v1/on-time?by=network",
    "/api/v1/approvals",
    "/api/v1/approval-workflows",
    "/api/v1/social-accounts",
    "/api/v1/members",
    "/api/v1/policies",
    "/inbox/",
    "/inbox/?view=unassigned&q=promo",
    "/links/",
    "/links/conversions/",
    "/goals/",
    "/analytics/",
    "/listening/",
    "/listening/boards/",
    "/api/v1/inbox/conversations",
    "/api/v1/links",
    "/api/v1/goals",
    "/api/v1/listening/topics",
    "/api/v1/listening/boards",
]


def _workspace(label: str, *, posts: int, accounts: int, pending: int, busy: int, heard: int):
    agency = seed_agency(
        posts=posts,
        accounts=accounts,
        campaigns=3,
        pending=pending,
        busy_day_posts=busy,
        months_back=1,
        months_ahead=1,
        label=label,
    )
    # What its accounts hear and measure: inbox, analytics, links and clicks, listening.
    seed_activity(
        agency,
        interactions=heard,
        tracked_per_account=heard // 20,
        links=heard // 10,
        clicks=heard,
        mentions=heard // 2,
    )
    # A draft without a time, so the calendar's drafts are loaded at both sizes.
    services.post_save(
        actor=agency.owner,
        variants=[services.VariantInput(account_id=agency.account_ids[0], text="Idea")],
    )
    _token, raw = account_services.api_token_create(
        membership=agency.owner, name="count", scopes=list(Scope.values)
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.force_login(agency.owner.user)
    return agency, client


def _path(template: str, agency) -> str:
    return template.format(busy=agency.busy_day.isoformat(), account=agency.account_ids[0])


def test_query_count_of_every_list_page_does_not_grow_with_the_data(django_assert_num_queries):
    small, small_client = _workspace("few", posts=60, accounts=2, pending=2, busy=6, heard=60)
    large, large_client = _workspace("many", posts=300, accounts=6, pending=6, busy=40, heard=300)
    shown = {}
    for page in PAGES:
        # Once each first: what a process reads once and caches (content types, a token's
        # last use) is not a query per row, and must not tip the comparison either way.
        small_client.get(_path(page, small))
        large_client.get(_path(page, large))
        with CaptureQueriesContext(connection) as few:
            response = small_client.get(_path(page, small))
        assert response.status_code == 200, (page, response.content[:300])
        assert len(few) <= 30, (page, [q["sql"][:120] for q in few.captured_queries])
        try:
            with django_assert_num_queries(len(few)):
                response = large_client.get(_path(page, large))
        except pytest.fail.Exception as exc:
            raise AssertionError(f"{page}: more queries with more data\n{exc}") from None
        assert response.status_code == 200, page
        shown[page] = response.content.decode()
    # The larger workspace really has more to show on the pages that list it.
    assert shown["/approvals/"].count('class="card approval-item"') == 6
    assert 'class="cal-more"' in shown["/calendar/?view=month&date={busy}"]
    assert shown["/queue/"].count('class="card queue-account"') == 6
    assert shown["/queue/"].count("<li><a href=") > 6
