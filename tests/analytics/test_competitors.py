"""Competitors: public Mastodon accounts read without credentials on the Mastodon test
server, compared with ours on the page and in the API; a competitor that is gone says so."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.accounts.scopes import Scope
from chorus.analytics import competitors
from chorus.analytics.models import Competitor, CompetitorDaily, CompetitorPost
from chorus.networks.models import ServerBudget

pytestmark = pytest.mark.django_db


@pytest.fixture
def rival(mastodon_server):
    """A public account on the test server with two posts (one liked twice) and a boost."""
    username, token = mastodon_server.new_user("rival")
    with mastodon_server.client(token) as rival:
        liked = rival.post("/api/v1/statuses", json={"status": "ផលិតផលថ្មី new launch"}).json()
        rival.post("/api/v1/statuses", json={"status": "quiet post"}).raise_for_status()
        rival.post(f"/api/v1/statuses/{liked['id']}/reblog").raise_for_status()
    for _ in range(2):
        _fan, fan_token = mastodon_server.new_user("fan")
        with mastodon_server.client(fan_token) as fan:
            fan.post(f"/api/v1/statuses/{liked['id']}/favourite").raise_for_status()
    return f"{mastodon_server.base_url}/@{username}", liked


def test_a_competitor_is_read_without_credentials_and_compared(
    owner, mastodon_account, rival, client
):
    address, liked = rival
    competitor = competitors.competitor_add(actor=owner, provider_key="mastodon", address=address)
    assert competitor.handle.startswith("rival") and competitor.gone_at is None
    daily = CompetitorDaily.objects.get(competitor=competitor)
    assert daily.posts == 3 and daily.followers == 0
    posts = {p.remote_id: p for p in CompetitorPost.objects.filter(competitor=competitor)}
    assert len(posts) == 2  # its own posts; the boost is not one
    assert posts[liked["id"]].likes == 2 and posts[liked["id"]].text == "ផលិតផលថ្មី new launch"

    client.force_login(owner.user)
    page = client.get("/analytics/competitors/")
    assert page.status_code == 200
    html = page.content.decode()
    assert competitor.handle in html and mastodon_account.handle in html
    assert 'id="chart-competitor-followers-table"' in html and "ផលិតផលថ្មី" in html


def test_a_competitor_that_no_longer_exists_shows_so_and_keeps_its_history(
    owner, mastodon_account, rival, client
):
    address, _liked = rival
    competitor = competitors.competitor_add(actor=owner, provider_key="mastodon", address=address)
    # The account is gone from its server (a deleted account answers 404 to the lookup).
    Competitor.objects.filter(pk=competitor.pk).update(
        address=address.rsplit("/@", 1)[0] + "/@nobody-here"
    )
    later = timezone.now() + timedelta(days=1, minutes=1)
    outcome = competitors.collect_competitors(now=later)
    assert outcome.failed == 1
    competitor.refresh_from_db()
    assert competitor.gone_at == later and competitor.next_collect_at is None
    assert CompetitorDaily.objects.filter(competitor=competitor).count() == 1  # kept
    assert competitors.collect_competitors(now=later + timedelta(days=1)).read == 0
    client.force_login(owner.user)
    html = client.get("/analytics/competitors/").content.decode()
    assert "No longer exists on the network" in html


def test_an_unknown_address_is_refused_clearly(owner, mastodon_account, mastodon_server, client):
    client.force_login(owner.user)
    answer = client.post(
        "/analytics/competitors/add/",
        {"provider": "mastodon", "address": f"{mastodon_server.base_url}/@nobody-at-all"},
    )
    assert answer.status_code == 400
    assert "has no account" in answer.content.decode()
    assert not Competitor.objects.exists()


def test_collection_waits_for_the_server_budget_and_leaves_publishing_its_reserve(
    owner, mastodon_account, rival, settings
):
    address, _liked = rival
    competitor = competitors.competitor_add(actor=owner, provider_key="mastodon", address=address)
    server = competitor.reader_url.split("://")[1]
    settings.CHORUS_SERVER_BUDGETS = {"mastodon": (10, 300)}
    settings.CHORUS_PUBLISHING_RESERVE = 0.3
    now = timezone.now() + timedelta(days=2)
    ServerBudget.objects.update_or_create(
        provider="mastodon",
        server=server,
        defaults={"limit": 10, "used": 6, "window_ends_at": now + timedelta(minutes=5)},
    )
    outcome = competitors.collect_competitors(now=now)
    assert outcome.deferred == 1 and outcome.requests == 0
    competitor.refresh_from_db()
    assert competitor.next_collect_at == now + timedelta(minutes=5)
    assert ServerBudget.objects.get(provider="mastodon", server=server).used == 6


def test_analytics_access_is_needed_to_see_or_add_competitors(
    owner, make_member, mastodon_account, rival, api, api_token_for, client
):
    address, _liked = rival
    viewer = make_member("viewer", workspace=owner.workspace)
    token = api_token_for(viewer, [Scope.ANALYTICS_READ, Scope.ANALYTICS_WRITE])
    assert api.get("/analytics/competitors", token=token).status_code == 403
    client.force_login(viewer.user)
    assert client.get("/analytics/competitors/").status_code == 403
    refused = api.post(
        "/analytics/competitors", json={"network": "mastodon", "address": address}, token=token
    )
    assert refused.status_code == 403 and not Competitor.objects.exists()

    owner_token = api_token_for(owner, [Scope.ANALYTICS_READ, Scope.ANALYTICS_WRITE])
    added = api.post(
        "/analytics/competitors",
        json={"network": "mastodon", "address": address},
        token=owner_token,
    )
    assert added.status_code == 201, added.content
    compared = api.get("/analytics/competitors/compare", token=owner_token).json()
    kinds = {side["kind"]: side for side in compared["sides"]}
    assert kinds["competitor"]["posts"] == 2 and kinds["competitor"]["engagements_per_post"] == 1.5
    assert kinds["ours"]["id"] == mastodon_account.pk
    assert compared["top_posts"][0]["engagements"] == 3  # 2 likes, its own boost
    removed = api.call("delete", f"/analytics/competitors/{added.json()['id']}", owner_token)
    assert removed.status_code == 204 and not Competitor.objects.exists()
