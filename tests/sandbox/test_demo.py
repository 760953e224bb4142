"""The demo workspace: connected sandbox accounts, a week of posts, campaign, policy, workflow."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from chorus.accounts.models import User
from chorus.governance.models import Policy
from chorus.networks import services as networks
from chorus.networks.models import SocialAccount
from chorus.publishing.approvals import approvals_waiting_for
from chorus.publishing.models import ApprovalWorkflow, Campaign, Post, PostState, Variant
from chorus.publishing.selectors import on_time_record
from chorus.sandbox.demo import demo_content_ensure
from tests.conftest import PASSWORD


def test_demo_workspace_has_accounts_a_week_of_posts_and_governance(demo, sandbox):
    accounts = SocialAccount.objects.filter(workspace=demo.workspace)
    assert sorted((a.provider, a.sandbox) for a in accounts) == [
        ("bluesky", True),
        ("mastodon", True),
        ("mastodon", True),
    ]
    assert {a.server for a in accounts} == {sandbox.base_url.removeprefix("http://")}

    now = timezone.now()
    published = Variant.objects.filter(post__workspace=demo.workspace, status="published")
    assert published.count() >= 10
    assert all(now - timedelta(days=7) < v.published_at < now for v in published)
    events = {e["id"] for e in sandbox.events()}  # really on the sandbox, each exactly once
    assert {v.remote_id for v in published} == events
    scheduled = Variant.objects.filter(post__workspace=demo.workspace, status="scheduled")
    assert scheduled.count() >= 8
    assert all(now < v.scheduled_at < now + timedelta(days=8) for v in scheduled)
    assert Post.objects.filter(workspace=demo.workspace, state=PostState.DRAFT).exists()

    campaign = Campaign.objects.get(workspace=demo.workspace)
    assert campaign.posts.count() >= 4
    assert Policy.objects.filter(workspace=demo.workspace, is_active=True).count() == 1
    assert ApprovalWorkflow.objects.get(workspace=demo.workspace).campaign == campaign
    assert len(approvals_waiting_for(demo)) == 2
    assert sum(row.published for row in on_time_record(demo)) == published.count()


def test_demo_accounts_hear_from_the_audience_through_the_providers(demo, sandbox):
    kinds = set()
    for account in SocialAccount.objects.filter(workspace=demo.workspace):
        with networks.provider_for(account) as provider:
            page = provider.fetch_interactions()
        kinds |= {item.kind for item in page.items}
        assert {item.kind for item in page.items} & {"like", "reply", "repost", "follow"}
    assert len(kinds) >= 5


def test_demo_is_filled_once(demo, sandbox):
    count = Post.objects.count()
    assert demo_content_ensure(sandbox_url=sandbox.base_url) is False
    assert Post.objects.count() == count


def test_sandbox_accounts_are_labelled_on_every_page_that_shows_them(demo, client):
    user = User.objects.get(pk=demo.user_id)
    user.set_password(PASSWORD)
    user.save()
    client.login(username=user.email, password=PASSWORD)
    account = SocialAccount.objects.filter(workspace=demo.workspace).first()
    post = Post.objects.filter(workspace=demo.workspace, variants__status="scheduled").first()
    pending = approvals_waiting_for(demo)[0]
    pages = [
        reverse("social_accounts"),
        reverse("account_detail", args=[account.pk]),
        reverse("post_new"),
        reverse("post_detail", args=[post.pk]),
        reverse("post_edit", args=[post.pk]),
        reverse("queue"),
        reverse("calendar") + "?view=list",
        reverse("approval_edit", args=[pending.pk]),
        reverse("on_time"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b'class="badge sandbox-badge"' in response.content or b"(sandbox)" in (
            response.content
        ), url
    assert "(sandbox)" in str(account)


def test_an_account_on_another_server_is_not_a_sandbox_account(db, sandbox, owner, settings):
    settings.CHORUS_SANDBOX_URL = "http://127.0.0.1:1"  # the sandbox is elsewhere
    settings.CHORUS_NETWORK_OPTIONS = {"bluesky": {"plc_url": sandbox.base_url}}
    account = networks.account_connect_with_password(
        actor=owner,
        provider_key="bluesky",
        identifier="shop.sandbox",
        password="pw",
        service_url=sandbox.base_url,
    )
    assert account.sandbox is False
    settings.CHORUS_SANDBOX_URL = sandbox.base_url
    again = networks.account_connect_with_password(
        actor=owner,
        provider_key="bluesky",
        identifier="shop.sandbox",
        password="pw",
        service_url=sandbox.base_url,
    )
    assert again.pk == account.pk and again.sandbox is True


def test_the_api_says_which_accounts_are_sandbox_accounts(demo, api, api_token_for):
    token = api_token_for(demo)
    response = api.get("/social-accounts", token=token)
    assert response.status_code == 200
    assert [a["sandbox"] for a in response.json()["items"]] == [True, True, True]


def test_a_demo_with_nothing_left_to_publish_gets_its_coming_days_again(demo, sandbox):
    from chorus.sandbox.demo import UPCOMING

    # a week later: everything has gone out (here: cancelled, the same for the demo)
    Variant.objects.filter(status="scheduled").update(status="cancelled")
    assert demo_content_ensure(sandbox_url=sandbox.base_url) is False
    fresh = Post.objects.filter(workspace=demo.workspace, variants__status="scheduled").distinct()
    assert fresh.count() == len(UPCOMING)
    demo_content_ensure(sandbox_url=sandbox.base_url)  # and only once
    assert fresh.count() == len(UPCOMING)
