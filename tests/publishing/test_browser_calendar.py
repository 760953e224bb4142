"""The content calendar in a real Chromium: posts at their local time, filters, and drag
and drop that reschedules (keeping the time of day, or taking a week-view hour)."""

import datetime as dt
import os
import re
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from chorus.publishing import campaigns, services
from chorus.publishing.models import Post, PostState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZONE = zoneinfo.ZoneInfo("Asia/Phnom_Penh")


def shot(page, name: str) -> None:
    folder = os.environ.get("CHORUS_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


@pytest.fixture
def scheduled(owner, mastodon_account):
    """A post scheduled for 14:45 Phnom Penh time on a day in the middle of a month ahead."""
    owner.workspace.timezone = "Asia/Phnom_Penh"
    owner.workspace.save()
    today = timezone.localdate(timezone=ZONE)
    day = (today.replace(day=1) + dt.timedelta(days=40)).replace(day=12)
    campaign = campaigns.campaign_save(actor=owner, name="Water festival", colour="#e8590c")
    post = services.post_save(
        actor=owner,
        variants=[services.VariantInput(account_id=mastodon_account.pk, text="Boat races 🚣")],
        campaign_id=campaign.pk,
    )
    at = dt.datetime.combine(day, dt.time(14, 45), tzinfo=ZONE)
    services.post_schedule(actor=owner, post=post, at=at)
    other = services.post_save(
        actor=owner,
        variants=[services.VariantInput(account_id=mastodon_account.pk, text="Unplanned idea")],
    )
    return post, day, other


def chip(page, day, post):
    return page.locator(f'td[data-date="{day.isoformat()}"] .cal-post[data-post="{post.pk}"]')


def test_month_view_shows_the_post_at_local_time_and_drag_keeps_the_time(signed_in_page, scheduled):
    post, day, _draft = scheduled
    page = signed_in_page
    page.goto(f"/calendar/?view=month&date={day.isoformat()}")
    card = chip(page, day, post)
    expect(card.locator(".cal-time")).to_have_text("14:45")
    expect(card).to_contain_text("Scheduled")
    assert "232, 89, 12" in card.evaluate("el => getComputedStyle(el).borderLeftColor")
    shot(page, "calendar-month")

    target = day + dt.timedelta(days=3)
    page.drag_and_drop(f'.cal-post[data-post="{post.pk}"]', f'td[data-date="{target.isoformat()}"]')
    expect(page.locator("#calendar-message")).to_contain_text("Moved")
    expect(chip(page, target, post)).to_be_visible()
    post.refresh_from_db()
    local = post.scheduled_at.astimezone(ZONE)
    assert (local.date(), local.time()) == (target, dt.time(14, 45))
    assert post.variants.get().scheduled_at == post.scheduled_at

    page.reload()
    expect(chip(page, target, post).locator(".cal-time")).to_have_text("14:45")


def test_refused_move_snaps_back_with_the_reason(signed_in_page, owner, scheduled):
    post, day, _draft = scheduled
    page = signed_in_page
    page.goto(f"/calendar/?view=month&date={day.isoformat()}")
    expect(chip(page, day, post)).to_be_visible()
    services.post_cancel(actor=owner, post=post)  # someone else cancels it meanwhile
    target = day + dt.timedelta(days=1)
    page.drag_and_drop(f'.cal-post[data-post="{post.pk}"]', f'td[data-date="{target.isoformat()}"]')
    expect(page.locator("#calendar-message")).to_contain_text("Only drafts and scheduled posts")
    expect(page.locator("#calendar-message")).to_have_class("cal-message error")
    expect(chip(page, day, post)).to_be_visible()  # back where it was
    post.refresh_from_db()
    assert post.scheduled_at.astimezone(ZONE).date() == day


def test_week_view_drop_on_an_hour_sets_that_hour(signed_in_page, scheduled):
    post, day, _draft = scheduled
    page = signed_in_page
    page.goto(f"/calendar/?view=week&date={day.isoformat()}")
    expect(
        page.locator(f'td[data-date="{day.isoformat()}"][data-hour="14"] .cal-post')
    ).to_be_visible()
    other_day = day + dt.timedelta(days=1) if day.weekday() < 6 else day - dt.timedelta(days=1)
    slot = f'td[data-date="{other_day.isoformat()}"][data-hour="8"]'
    page.locator(slot).scroll_into_view_if_needed()
    shot(page, "calendar-week")
    page.drag_and_drop(f'.cal-post[data-post="{post.pk}"]', slot)
    expect(page.locator("#calendar-message")).to_contain_text("Moved")
    post.refresh_from_db()
    local = post.scheduled_at.astimezone(ZONE)
    assert (local.date(), local.time()) == (other_day, dt.time(8, 45))


def test_filters_and_list_view(signed_in_page, owner, scheduled):
    post, day, draft = scheduled
    page = signed_in_page
    page.goto(f"/calendar/?view=list&date={day.isoformat()}")
    expect(page.locator(".cal-list")).to_contain_text("Boat races")
    expect(page.locator(".unscheduled")).to_contain_text("Unplanned idea")
    page.select_option("#id_status", "failed")
    expect(page.locator(".cal-list")).not_to_contain_text("Boat races")
    page.wait_for_url(re.compile(r"status=failed"))
    page.select_option("#id_status", "")
    page.select_option("#id_campaign", str(post.campaign_id))
    page.wait_for_url(re.compile(rf"campaign={post.campaign_id}"))
    expect(page.locator(".cal-list")).to_contain_text("Boat races")
    expect(page.locator(".unscheduled")).to_have_count(0)  # the draft has no campaign
    shot(page, "calendar-list")


def test_drag_an_unscheduled_draft_onto_a_day(signed_in_page, scheduled):
    post, day, draft = scheduled
    page = signed_in_page
    page.goto(f"/calendar/?view=month&date={day.isoformat()}")
    target = day + dt.timedelta(days=2)
    page.drag_and_drop(
        f'.cal-post[data-post="{draft.pk}"]', f'td[data-date="{target.isoformat()}"]'
    )
    expect(page.locator("#calendar-message")).to_contain_text("Moved")
    draft.refresh_from_db()
    assert draft.state == PostState.SCHEDULED
    local = draft.scheduled_at.astimezone(ZONE)
    assert (local.date(), local.time()) == (target, dt.time(9, 0))
    assert Post.objects.count() == 2


def test_a_busy_day_shows_what_fits_and_more_opens_the_whole_day(
    signed_in_page, owner, mastodon_account, scheduled
):
    post, day, _draft = scheduled  # 14:45 on `day`
    for n in range(4):
        extra = services.post_save(
            actor=owner,
            variants=[services.VariantInput(account_id=mastodon_account.pk, text=f"Heat {n + 1}")],
        )
        at = dt.datetime.combine(day, dt.time(9 + n, 0), tzinfo=ZONE)
        services.post_schedule(actor=owner, post=extra, at=at)
    page = signed_in_page
    page.goto(f"/calendar/?view=month&date={day.isoformat()}")
    cell = page.locator(f'td[data-date="{day.isoformat()}"]')
    expect(cell.locator(".cal-post")).to_have_count(3)  # 09:00, 10:00, 11:00 fit
    more = cell.get_by_role("link", name=re.compile(r"2 more posts on"))
    expect(more.locator("[aria-hidden=true]")).to_have_text("+2 more")  # what is seen
    shot(page, "calendar-more")
    more.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"view=day&date={day.isoformat()}"))
    expect(page.locator("#calendar-title")).to_contain_text(str(day.day))
    expect(page.locator(".cal-list .cal-post")).to_have_count(5)
    expect(page.locator(".cal-list")).to_contain_text("Boat races")
    expect(page.locator(".cal-list h2")).to_contain_text("5 posts")
