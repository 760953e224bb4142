"""Issue 10.1 and 10.2 in the composer: a refused upload says why, under the CSP."""

import pytest
from playwright.sync_api import expect
from tests.publishing import samples

from chorus.publishing.models import MediaAsset

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_an_svg_is_refused_with_the_reason_then_a_photo_is_added(
    signed_in_page, owner, mastodon_account, tmp_path
):
    svg = tmp_path / "logo.svg"
    svg.write_bytes(samples.SVG_ATTACK)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(samples.jpeg_with_gps(12, 9))
    page = signed_in_page
    page.goto("/posts/new/")
    page.set_input_files("#id_upload", str(svg))
    expect(page.locator("#upload-status")).to_contain_text("SVG, HTML and other text files")
    assert not MediaAsset.objects.exists()
    page.set_input_files("#id_upload", str(photo))
    expect(page.locator("#media-library .media-item").first).to_contain_text("12×9")
    expect(page.locator("#upload-status")).to_be_empty()
    assert MediaAsset.objects.get().mime_type == "image/jpeg"
