"""Server budgets: a per-server quota shared by every account there, across dispatchers."""

from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chorus.config import ConfigError, server_budgets
from chorus.networks import budgets
from chorus.networks.models import ServerBudget, SocialAccount
from chorus.publishing import services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Variant, VariantStatus


def publish_now(owner, account, text, **extra):
    post = services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text=text, **extra)]
    )
    services.post_publish_now(actor=owner, post=post)
    return post


def statuses(post):
    return Variant.objects.get(post=post).status


def test_accounts_know_their_server(mastodon_account, mastodon_server):
    assert mastodon_account.server == urlsplit(mastodon_server.base_url).netloc


def test_spent_budget_holds_the_rest_until_the_window_ends(
    owner, mastodon_account, statuses_of, settings
):
    settings.CHORUS_SERVER_BUDGETS = {"mastodon": (2, 60)}
    posts = [publish_now(owner, mastodon_account, f"Budgeted post {n}") for n in range(3)]

    assert Dispatcher().run_once() == 2
    assert [statuses(p) for p in posts] == [VariantStatus.PUBLISHED] * 2 + [VariantStatus.SCHEDULED]
    budget = ServerBudget.objects.get(provider="mastodon", server=mastodon_account.server)
    assert (budget.used, budget.limit) == (2, 2)

    assert Dispatcher().run_once() == 0, "another dispatcher sees the same spent budget"
    after_window = budget.window_ends_at + timedelta(seconds=1)
    assert Dispatcher().run_once(now=after_window) == 1
    assert statuses(posts[2]) == VariantStatus.PUBLISHED
    assert len(statuses_of(mastodon_account)) == 3


def test_thread_parts_are_charged_to_the_budget(owner, mastodon_account, settings):
    settings.CHORUS_SERVER_BUDGETS = {"mastodon": (10, 300)}
    post = publish_now(owner, mastodon_account, "1/3", thread=["2/3", "3/3"])
    Dispatcher().run_once()
    assert statuses(post) == VariantStatus.PUBLISHED
    assert ServerBudget.objects.get(server=mastodon_account.server).used == 3


def test_unbudgeted_network_keeps_no_budget_rows(owner, mastodon_account, settings):
    settings.CHORUS_SERVER_BUDGETS = {"mastodon": None}
    publish_now(owner, mastodon_account, "No server budget here")
    assert Dispatcher().run_once() == 1
    assert not ServerBudget.objects.exists()


def test_defaults_come_from_each_networks_documented_quota(settings):
    settings.CHORUS_SERVER_BUDGETS = {}
    assert budgets.budget_for("bluesky") == (2700, 300)  # 90% of the PDS's 3,000 per IP
    assert budgets.budget_for("mastodon") is None  # authenticated calls: per account only
    settings.CHORUS_SERVER_BUDGETS = {"bluesky": (100, 60)}
    assert budgets.budget_for("bluesky") == (100, 60)


@pytest.mark.django_db
def test_reserve_grants_no_more_than_is_left(settings):
    settings.CHORUS_SERVER_BUDGETS = {}
    now = timezone.now()
    server = ("bluesky", "pds.example")
    granted = budgets.reserve(Counter({server: 2000}), now)
    assert granted[server] == 2000
    assert budgets.reserve(Counter({server: 2000}), now)[server] == 700
    assert budgets.spent_servers(now) == [server]
    later = now + timedelta(seconds=301)
    assert budgets.spent_servers(later) == []
    assert budgets.reserve(Counter({server: 5}), later)[server] == 5


def test_setting_parses_budgets_and_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("CHORUS_SERVER_BUDGETS", "bluesky=2700/300, mastodon=off")
    assert server_budgets("CHORUS_SERVER_BUDGETS") == {"bluesky": (2700, 300), "mastodon": None}
    for wrong in ("bluesky=lots", "bluesky=10/0", "bluesky"):
        monkeypatch.setenv("CHORUS_SERVER_BUDGETS", wrong)
        with pytest.raises(ConfigError, match="CHORUS_SERVER_BUDGETS"):
            server_budgets("CHORUS_SERVER_BUDGETS")


def test_account_page_shows_its_servers_shared_budget(owner, settings):
    settings.CHORUS_SERVER_BUDGETS = {}
    account = SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="bluesky",
        remote_id="did:plc:budgeted",
        handle="budgeted.test",
        identity={"did": "did:plc:budgeted", "pds_url": "https://pds.example:2583"},
        connected_by=owner.user,
    )
    assert account.server == "pds.example:2583"
    budgets.reserve(Counter({("bluesky", account.server): 5}), timezone.now())
    client = Client()
    client.force_login(owner.user)
    page = client.get(reverse("account_detail", args=[account.pk])).content.decode()
    assert "5 of 2700 requests per 300 s used" in page and "pds.example:2583" in page


@pytest.mark.django_db
def test_background_readers_leave_publishing_its_reserve(owner, mastodon_account, settings):
    """A poller stops at 70% of the server's window; the dispatcher may still use the rest."""
    settings.CHORUS_SERVER_BUDGETS = {"mastodon": (10, 60)}
    settings.CHORUS_PUBLISHING_RESERVE = 0.3
    now = timezone.now()
    granted = [budgets.reserve_background(mastodon_account, 1, now) for _ in range(9)]
    assert granted[:7] == [None] * 7
    window_end = ServerBudget.objects.get(server=mastodon_account.server).window_ends_at
    assert granted[7:] == [window_end, window_end], "readers wait for the next window"
    server = ("mastodon", mastodon_account.server)
    assert budgets.reserve(Counter({server: 5}), now)[server] == 3, "publishing gets the rest"
    assert budgets.reserve_background(mastodon_account, 1, window_end) is None


@pytest.mark.django_db
def test_background_readers_stop_short_of_the_accounts_own_budget(owner, mastodon_account):
    now = timezone.now()
    reset = now + timedelta(minutes=5)
    SocialAccount.objects.filter(pk=mastodon_account.pk).update(
        rate_limit=300, rate_remaining=91, rate_reset_at=reset
    )
    mastodon_account.refresh_from_db()
    assert budgets.reserve_background(mastodon_account, 1, now) is None
    assert budgets.reserve_background(mastodon_account, 2, now) == reset
    assert budgets.reserve_background(mastodon_account, 2, reset) is None, "a new window"
