"""Approvals in a real Chromium: a contributor composes and submits, an admin approves from
/approvals/, the post shows approved and scheduled, and the dispatcher then publishes it to
the Mastodon test server."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from tests.conftest import PASSWORD

from chorus.accounts.roles import Role
from chorus.networks import services as network_services
from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import ApprovalStatus, Post, PostState, VariantStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, membership):
    page.goto("/login/")
    page.fill("#id_username", membership.user.email)
    page.fill("#id_password", PASSWORD)
    page.click("#login")
    page.wait_for_url("**/")


def test_contributor_submits_admin_approves_then_it_is_published(
    page, owner, make_member, mastodon_account, statuses_of
):
    contributor = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    admin = make_member(Role.ADMIN, workspace=owner.workspace)
    network_services.account_set_member_levels(
        actor=owner, account=mastodon_account, levels={contributor: {"draft"}}
    )

    sign_in(page, contributor)
    page.goto("/posts/new/")
    expect(page.locator("#publish-now")).to_have_count(0)
    page.fill("#id_text", "Spring menu: ស្វាគមន៍ ยินดีต้อนรับ")
    day = timezone.localdate() + dt.timedelta(days=3)
    page.fill("#id_scheduled_date", day.isoformat())
    page.fill("#id_scheduled_time", "10:15")
    page.click("#submit-for-approval")
    post = Post.objects.get()
    page.wait_for_url(f"**/posts/{post.pk}/")
    expect(page.locator("#post-status")).to_have_text("Pending approval")
    expect(page.locator(f"#approval-{post.pk} [data-role=approval-status]")).to_have_text("Pending")
    post.refresh_from_db()
    assert post.state == PostState.PENDING_APPROVAL
    assert post.variants.get().status == VariantStatus.DRAFT

    page.click("#logout")
    sign_in(page, admin)
    page.goto("/approvals/")
    item = page.locator(f"#pending-{post.pk}")
    expect(item.locator(".preview-card")).to_contain_text("Spring menu")
    item.locator(f"#comment-{post.pk}").fill("Looks good")
    item.locator(f"#approve-{post.pk}").click()
    expect(page.locator("#nothing-waiting")).to_be_visible()

    page.goto(f"/posts/{post.pk}/")
    expect(page.locator("#post-status")).to_have_text("Scheduled")
    expect(page.locator(f"#approval-{post.pk} [data-role=approval-status]")).to_have_text(
        "Approved"
    )
    expect(page.locator(f"#approval-{post.pk} .approval-history")).to_contain_text("Looks good")
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED and post.approval_status == ApprovalStatus.APPROVED

    Dispatcher().run_once(now=post.scheduled_at + dt.timedelta(seconds=1))
    assert [s["id"] for s in statuses_of(mastodon_account)] == [post.variants.get().remote_id]
