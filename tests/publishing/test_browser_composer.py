"""The composer, post detail and publishing, in a real Chromium against the Mastodon test
server: live counting as Mastodon counts, scheduling in the workspace's zone, publishing now,
and a failure with the network's reason and a working Retry."""

import datetime as dt
import os
import re
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from chorus.publishing.dispatcher import Dispatcher
from chorus.publishing.models import Post, PostState, Variant, VariantStatus
from chorus.publishing.validation import part_lengths

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "https://example.com/a/very/long/path/that/mastodon/counts/as/twenty/three"
TEXT = f"សួស្តី ប្រទេសកម្ពុជា 👋🏽 สวัสดีครับ 🇹🇭🇰🇭 {URL}"


def shot(page, name: str) -> None:
    """Keep a screenshot when CHORUS_SCREENSHOTS names a folder (to look at the pages)."""
    folder = os.environ.get("CHORUS_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def phnom_penh(owner):
    owner.workspace.timezone = "Asia/Phnom_Penh"
    owner.workspace.save()
    return zoneinfo.ZoneInfo("Asia/Phnom_Penh")


def test_live_counter_over_limit_and_schedule_in_the_workspace_zone(
    signed_in_page, owner, mastodon_account, phnom_penh
):
    page = signed_in_page
    account = mastodon_account
    page.goto("/posts/new/")
    expect(page.locator(f"#variant-{account.pk}")).to_be_visible()  # the only account: chosen
    expect(page.locator("#zone-name")).to_have_text("Asia/Phnom_Penh")

    counter = page.locator(f"#counter-{account.pk}")
    page.fill("#id_text", TEXT)
    expected = part_lengths("mastodon", [TEXT])[0].count
    without_url = part_lengths("mastodon", [TEXT.replace(URL, "")])[0].count
    assert expected == without_url + 23 and len(URL) > 23  # the URL counts 23 on Mastodon
    expect(counter).to_have_text(f"{expected} / 500")
    expect(page.locator(f"#preview-{account.pk} .ent-link")).to_have_text(URL)

    page.type("#id_text", " ✨")
    expect(counter).to_have_text(f"{expected + 2} / 500")

    long_text = "ក" * 490 + " " + URL  # 490 + 1 + 23 = 514 on Mastodon
    page.fill("#id_text", long_text)
    expect(counter).to_have_text("514 / 500")
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    expect(page.locator(f"#preview-problems-{account.pk}")).to_contain_text("14 too many")
    shot(page, "composer-over-limit")

    page.fill("#id_text", TEXT)
    expect(counter).to_have_text(f"{expected} / 500")
    expect(page.locator("#autosave-status")).to_contain_text("Kept as a draft")  # autosaved draft
    post = Post.objects.get()
    assert post.state == PostState.DRAFT and post.variants.get().text == TEXT
    page.wait_for_url(f"**/posts/{post.pk}/edit/")

    day = timezone.localdate(timezone=phnom_penh) + dt.timedelta(days=9)
    page.fill("#id_scheduled_date", day.isoformat())
    page.fill("#id_scheduled_time", "09:30")
    shot(page, "composer")
    page.click("#schedule")
    page.wait_for_url(f"**/posts/{post.pk}/")
    expect(page.locator("#post-status")).to_have_text("Scheduled")
    expect(page.locator("#post-scheduled-at")).to_contain_text("09:30")
    assert Post.objects.count() == 1  # the autosaved draft was scheduled, not a twin
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
    assert post.scheduled_at == dt.datetime.combine(day, dt.time(9, 30), tzinfo=phnom_penh)
    assert post.scheduled_at.astimezone(dt.UTC).hour == 2  # Phnom Penh is UTC+7

    page.goto(f"/calendar/?view=month&date={day.isoformat()}")
    chip = page.locator(f'td[data-date="{day.isoformat()}"] .cal-post[data-post="{post.pk}"]')
    expect(chip.locator(".cal-time")).to_have_text("09:30")


def test_publish_now_then_published_with_the_link(
    signed_in_page, owner, mastodon_account, statuses_of
):
    page = signed_in_page
    page.goto("/posts/new/")
    page.fill("#id_text", "ជំរាបសួរ from the browser #Chorus")
    expect(page.locator(f"#counter-{mastodon_account.pk}")).not_to_have_text("0 / 500")
    page.click("#publish-now")
    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    variant = Variant.objects.get()
    assert variant.status == VariantStatus.SCHEDULED
    assert Dispatcher().run_once() == 1
    page.reload()
    expect(page.locator("#post-status")).to_have_text("Published")
    variant.refresh_from_db()
    link = page.locator(f"#remote-link-{variant.pk}")
    expect(link).to_have_attribute("href", variant.remote_url)
    expect(page.locator(f"#variant-{variant.pk}")).to_contain_text(variant.remote_id)
    expect(page.locator(f"#variant-{variant.pk} .lateness")).to_contain_text(" s")
    assert [s["id"] for s in statuses_of(mastodon_account)] == [variant.remote_id]
    shot(page, "post-published")


def test_failed_post_shows_the_reason_and_retry_publishes_it(
    signed_in_page, owner, mastodon_account, mastodon_server, statuses_of
):
    page = signed_in_page
    page.goto("/posts/new/")
    page.fill("#id_text", "This one will be refused once")
    page.click("#publish-now")
    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    with mastodon_server.fault(
        match={"methods": ["POST"], "path": "/api/v1/statuses"},
        effect={
            "type": "status",
            "status": 422,
            "body": {"error": "Validation failed: Text character limit of 500 exceeded"},
        },
        count=1,
    ):
        Dispatcher().run_once()
    variant = Variant.objects.get()
    assert variant.status == VariantStatus.FAILED
    page.reload()
    expect(page.locator("#post-status")).to_have_text("Failed")
    section = page.locator(f"#variant-{variant.pk}")
    expect(section.locator(".reason")).to_contain_text("character limit of 500 exceeded")
    expect(section.locator("details.attempts")).to_contain_text("Rejected")
    shot(page, "post-failed")
    page.click(f"#retry-{variant.pk}")
    expect(page.locator("#post-status")).to_have_text("Scheduled")
    assert Dispatcher().run_once() == 1
    page.reload()
    expect(page.locator("#post-status")).to_have_text("Published")
    variant.refresh_from_db()
    expect(page.locator(f"#remote-link-{variant.pk}")).to_have_attribute("href", variant.remote_url)
    assert len(statuses_of(mastodon_account)) == 1


def test_upload_an_image_with_alt_text_and_see_it_in_the_preview(
    signed_in_page, owner, mastodon_account, tmp_path
):
    from tests.publishing.test_views import PNG_2X3

    image = tmp_path / "tiny.png"
    image.write_bytes(PNG_2X3)
    page = signed_in_page
    page.goto("/posts/new/")
    page.fill("#id_text", "With a picture")
    page.set_input_files("#id_upload", str(image))
    item = page.locator("#media-library .media-item").first
    expect(item).to_contain_text("2×3")
    item.locator("input[type=text]").fill("A tiny test image")
    preview = page.locator(f"#preview-{mastodon_account.pk} .pv-media")
    expect(preview).to_contain_text("A tiny test image")
    page.click("#save-draft")
    page.wait_for_url(re.compile(r"/posts/\d+/edit/$"))
    variant = Variant.objects.get()
    media = list(variant.variantmedia_set.all())
    assert [m.alt_text for m in media] == ["A tiny test image"]
