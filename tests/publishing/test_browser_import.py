"""Bulk import in the browser: a report first, then all rows or none."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.publishing.models import Post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bad_row_is_reported_and_nothing_scheduled_then_fixed_file_imports(
    signed_in_page, mastodon_account, tmp_path
):
    when = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"account,text,scheduled_at\n{mastodon_account.handle},ជំរាបសួរ,{when}\n"
        f"{mastodon_account.handle},{'x' * 600},{when}\n",
        encoding="utf-8",
    )
    page = signed_in_page
    page.goto("/posts/import/")
    page.set_input_files("#id_file", str(bad))
    page.click("#import")
    page.wait_for_selector("#import-report")
    assert page.locator("#import-report tr.row-error").count() == 1
    assert "500" in page.inner_text("#import-report tr[data-line='3']")
    assert Post.objects.count() == 0

    good = tmp_path / "good.csv"
    good.write_text(
        f"account,text,scheduled_at\n{mastodon_account.handle},ជំរាបសួរ,{when}\n",
        encoding="utf-8",
    )
    page.set_input_files("#id_file", str(good))
    page.click("#import")
    page.wait_for_url("**/calendar/**")
    assert Post.objects.get().variants.get().text == "ជំរាបសួរ"
