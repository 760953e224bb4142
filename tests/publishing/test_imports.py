"""CSV bulk import: a per-row report first; all rows scheduled or none."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.core.errors import ServiceError
from chorus.publishing.imports import posts_import_csv
from chorus.publishing.models import Post, PostState

pytestmark = pytest.mark.django_db


def when(hours=2):
    return (timezone.now() + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def test_valid_file_is_checked_then_scheduled(owner, mastodon_account):
    data = (
        "account,text,scheduled_at,thread\n"
        f"{mastodon_account.handle},สวัสดี,{when(2)},\n"
        f"{mastodon_account.handle},Habari,{when(3)},part two || part three\n"
    ).encode()
    report = posts_import_csv(actor=owner, data=data, commit=False)
    assert report.ok and not report.committed and Post.objects.count() == 0
    report = posts_import_csv(actor=owner, data=data, commit=True)
    assert report.committed and len(report.post_ids) == 2
    assert set(Post.objects.values_list("state", flat=True)) == {PostState.SCHEDULED}
    threaded = Post.objects.get(pk=report.post_ids[1]).variants.get()
    assert threaded.thread == ["part two", "part three"]


def test_one_bad_row_blocks_the_whole_import_and_is_reported(owner, mastodon_account):
    data = (
        "account,text,scheduled_at\n"
        f"{mastodon_account.handle},fine,{when(2)}\n"
        f"{mastodon_account.handle},{'x' * 600},{when(2)}\n"
        f"nobody,hello,{when(2)}\n"
        f"{mastodon_account.handle},old,2001-01-01 10:00\n"
    ).encode()
    report = posts_import_csv(actor=owner, data=data, commit=True)
    assert not report.ok and not report.committed
    assert Post.objects.count() == 0
    errors = {row.line: row.errors for row in report.rows}
    assert errors[2] == []
    assert any("500" in e for e in errors[3])
    assert any("Unknown account" in e for e in errors[4])
    assert any("past" in e for e in errors[5])


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"text,scheduled_at\nhi,2030-01-01 10:00\n", "Missing columns: account"),
        (b"\xff\xfe\x00bad", "UTF-8"),
        (b"account,text,scheduled_at\n", "no rows"),
        (b"account,text,scheduled_at\na,b,c,d\n", "more cells"),
    ],
)
def test_malformed_files_get_a_clear_error(owner, data, words):
    with pytest.raises(ServiceError) as error:
        posts_import_csv(actor=owner, data=data, commit=True)
    assert words in error.value.message


def test_local_times_are_read_in_the_workspace_zone(owner, mastodon_account):
    owner.workspace.timezone = "Asia/Phnom_Penh"
    owner.workspace.save()
    local = (
        (timezone.now() + timedelta(days=2))
        .astimezone(__import__("zoneinfo").ZoneInfo("Asia/Phnom_Penh"))
        .replace(second=0, microsecond=0)
    )
    data = f"account,text,scheduled_at\n{mastodon_account.handle},hi,{local:%Y-%m-%d %H:%M}\n"
    report = posts_import_csv(actor=owner, data=data.encode(), commit=True)
    assert report.committed
    assert Post.objects.get().scheduled_at == local
