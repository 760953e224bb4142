"""The overview: what goes out, what waits for me, what needs fixing, punctuality, first steps."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chorus.accounts.models import Invitation
from chorus.governance.models import Policy
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing import services
from chorus.publishing.models import Post, VariantStatus
from chorus.publishing.services import VariantInput
from tests.conftest import PASSWORD

HOME = "/"


def sign_in(client, membership):
    client.login(username=membership.user.email, password=PASSWORD)


def account(workspace, handle="brand", **fields):
    return SocialAccount.objects.create(
        workspace=workspace,
        provider="mastodon",
        remote_id=handle,
        handle=f"{handle}@example.social",
        identity={"server_url": "https://example.social"},
        **fields,
    )


def post_at(actor, accounts, when, text="Hello from the café"):
    post = services.post_save(
        actor=actor, variants=[VariantInput(account_id=a.pk, text=text) for a in accounts]
    )
    return services.post_schedule(actor=actor, post=post, at=when)


def end_of_today(zone: str = "UTC") -> datetime:
    tomorrow = timezone.localdate(timezone=ZoneInfo(zone)) + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, tzinfo=ZoneInfo(zone))


def section(response, element_id: str) -> str:
    html = response.content.decode()
    match = re.search(rf'id="{element_id}">(.*?)</div>', html, re.S)
    assert match, f"no #{element_id}"
    return match.group(1)


def test_a_new_workspace_gets_a_checklist_that_ticks_itself_off(client, owner):
    sign_in(client, owner)
    response = client.get(HOME)
    checklist = section(response, "checklist")
    assert checklist.count('class=""') == 4  # nothing done yet

    brand = account(owner.workspace)
    assert 'class="done" data-step="account"' in section(client.get(HOME), "checklist")
    services.post_save(actor=owner, variants=[VariantInput(account_id=brand.pk, text="Hi")])
    Invitation.objects.create(
        workspace=owner.workspace,
        email="mate@example.org",
        role="editor",
        invited_by=owner.user,
        expires_at=timezone.now() + timedelta(days=7),
    )
    checklist = section(client.get(HOME), "checklist")
    for step in ("account", "post", "teammate"):
        assert f'class="done" data-step="{step}"' in checklist
    assert 'class="" data-step="policy"' in checklist

    Policy.objects.create(workspace=owner.workspace, name="No promises", kind="banned_terms")
    assert 'id="checklist"' not in client.get(HOME).content.decode()


def test_posts_going_out_today_and_this_week(client, owner):
    sign_in(client, owner)
    brand = account(owner.workspace)
    now = timezone.now()
    midnight = end_of_today()
    if midnight - now < timedelta(minutes=10):
        pytest.skip("too close to midnight UTC to place a post later today")  # pragma: no cover
    today = post_at(owner, [brand], now + (midnight - now) / 2, "Later today")
    this_week = post_at(owner, [brand], midnight + timedelta(hours=3), "Tomorrow morning")
    post_at(owner, [brand], now + timedelta(days=9), "Far away")
    draft = services.post_save(actor=owner, variants=[VariantInput(account_id=brand.pk, text="d")])

    response = client.get(HOME)
    assert section(response, "today-count").strip() == "1"
    assert section(response, "week-count").strip() == "2"
    going_out = section(response, "going-out-today")
    assert f'data-post="{today.pk}"' in going_out and "Later today" in going_out
    week = section(response, "this-week")
    assert f'data-post="{this_week.pk}"' in week
    assert f'data-post="{today.pk}"' not in week
    assert "Far away" not in response.content.decode()
    assert f'data-post="{draft.pk}"' not in response.content.decode()


def test_a_busy_week_lists_the_first_posts_and_counts_the_rest(client, owner, monkeypatch):
    monkeypatch.setattr("chorus.web.views.workspace.GOING_OUT_SHOWN", 1)
    sign_in(client, owner)
    brand = account(owner.workspace)
    now = timezone.now()
    midnight = end_of_today()
    if midnight - now < timedelta(minutes=10):
        pytest.skip("too close to midnight UTC to place posts later today")  # pragma: no cover
    today = [post_at(owner, [brand], now + (midnight - now) * k / 3) for k in (1, 2)]
    later = [post_at(owner, [brand], midnight + timedelta(hours=h)) for h in (1, 2, 3)]

    response = client.get(HOME)
    assert section(response, "today-count").strip() == "2"
    assert section(response, "week-count").strip() == "5"
    going_out = section(response, "going-out-today")
    assert f'data-post="{today[0].pk}"' in going_out  # the soonest first
    assert f'data-post="{today[1].pk}"' not in going_out
    assert "1 more post today" in going_out
    week = section(response, "this-week")
    assert f'data-post="{later[0].pk}"' in week
    assert all(f'data-post="{p.pk}"' not in week for p in later[1:])
    assert "2 more posts this week" in week
    assert "Nothing scheduled in the next 7 days." not in week


def test_only_today_leaves_the_week_without_its_empty_note(client, owner):
    sign_in(client, owner)
    brand = account(owner.workspace)
    now = timezone.now()
    midnight = end_of_today()
    if midnight - now < timedelta(minutes=10):
        pytest.skip("too close to midnight UTC to place a post later today")  # pragma: no cover
    post_at(owner, [brand], now + (midnight - now) / 2)
    week = section(client.get(HOME), "this-week")
    assert "Nothing scheduled in the next 7 days." not in week


def test_approvals_waiting_for_me(client, owner, make_member):
    contributor = make_member("contributor", workspace=owner.workspace)
    brand = account(owner.workspace)
    brand.allowed_members.through.every.create(
        socialaccount=brand, membership=contributor, draft=True
    )
    pending = post_at(contributor, [brand], timezone.now() + timedelta(days=2), "Please check")

    sign_in(client, owner)
    response = client.get(HOME)
    assert section(response, "waiting-count").strip() == "1"
    assert f'data-post="{pending.pk}"' in section(response, "approvals-waiting")

    client.logout()
    sign_in(client, contributor)
    response = client.get(HOME)
    assert section(response, "waiting-count").strip() == "0"
    assert 'id="approvals-waiting"' not in response.content.decode()


def test_accounts_and_posts_needing_attention(client, owner):
    now = timezone.now()
    fine = account(owner.workspace, "fine", last_ok_at=now)
    revoked = account(owner.workspace, "revoked", status=AccountStatus.NEEDS_RECONNECT)
    failing = account(
        owner.workspace,
        "failing",
        last_ok_at=now - timedelta(hours=2),
        last_error_at=now - timedelta(hours=1),
        last_error="HTTP 503 from example.social",
    )
    recovered = account(
        owner.workspace, "recovered", last_ok_at=now, last_error_at=now - timedelta(hours=1)
    )
    post = post_at(owner, [fine], now + timedelta(hours=1), "Will fail")
    post.variants.update(status=VariantStatus.FAILED, last_error="Text too long for the server")

    sign_in(client, owner)
    response = client.get(HOME)
    attention = section(response, "attention")
    assert f'data-account="{revoked.pk}"' in attention
    assert f'data-account="{failing.pk}"' in attention and "HTTP 503" in attention
    assert f'data-account="{fine.pk}"' not in attention
    assert f'data-account="{recovered.pk}"' not in attention
    assert "Text too long for the server" in attention
    assert section(response, "attention-count").strip() == "3"


def test_on_time_figure(client, owner):
    brand = account(owner.workspace)
    sign_in(client, owner)
    assert "Nothing published in the last 7 days." in client.get(HOME).content.decode()
    now = timezone.now()
    for late in (1.0, 2.0, 30.0):
        post = post_at(owner, [brand], now + timedelta(minutes=5))
        post.variants.update(
            status=VariantStatus.PUBLISHED,
            scheduled_at=now - timedelta(hours=1),
            published_at=now - timedelta(hours=1) + timedelta(seconds=late),
        )
    on_time = client.get(HOME).content.decode().split('id="on-time"')[1].split("</div>\n</div>")[0]
    assert "30.0 s" in on_time  # p90 of three values is the worst
    assert "3 posts published, median 2.0 s late" in on_time


def home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    return len(queries)


def test_the_overview_costs_a_fixed_number_of_queries(
    client, owner, make_member, django_assert_max_num_queries
):
    contributor = make_member("contributor", workspace=owner.workspace)

    def fill(n: int) -> None:
        now = timezone.now()
        for i in range(n):
            brand = account(owner.workspace, f"brand{Post.objects.count()}-{i}")
            brand.allowed_members.through.every.create(
                socialaccount=brand, membership=contributor, draft=True
            )
            post_at(owner, [brand], now + timedelta(hours=1 + i))
            post_at(owner, [brand], now + timedelta(days=2, hours=i))
            post_at(contributor, [brand], now + timedelta(days=3, hours=i))
            broken = post_at(owner, [brand], now + timedelta(days=4, hours=i))
            broken.variants.update(status=VariantStatus.FAILED)
            done = post_at(owner, [brand], now + timedelta(days=5, hours=i))
            done.variants.update(status=VariantStatus.PUBLISHED, scheduled_at=now, published_at=now)
            SocialAccount.objects.filter(pk=brand.pk).update(status=AccountStatus.NEEDS_RECONNECT)

    sign_in(client, owner)
    fill(1)
    few = home_queries(client)
    fill(5)
    with django_assert_max_num_queries(few):
        client.get(HOME)
    assert home_queries(client) == few
