"""The on-time record: one selector feeds the page and the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.publishing import services
from chorus.publishing.models import Variant, VariantStatus
from chorus.publishing.selectors import on_time_record, percentile

pytestmark = pytest.mark.django_db


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0
    assert percentile([], 0.5) == 0.0


def published(owner, account, lateness_seconds: float) -> Variant:
    post = services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text="x")]
    )
    scheduled = timezone.now() - timedelta(hours=1)
    Variant.objects.filter(post=post).update(
        status=VariantStatus.PUBLISHED,
        scheduled_at=scheduled,
        published_at=scheduled + timedelta(seconds=lateness_seconds),
    )
    return post.variants.get()


def test_record_groups_by_account_and_network_and_the_page_shows_it(
    client, owner, mastodon_account
):
    for lateness in (0.2, 0.4, 0.6, 0.8, 30.0):
        published(owner, mastodon_account, lateness)
    [row] = on_time_record(owner, by="network")
    assert (row.group, row.published, row.p50, row.worst) == ("mastodon", 5, 0.6, 30.0)
    assert on_time_record(owner, by="account")[0].group == mastodon_account.handle
    client.force_login(owner.user)
    page = client.get("/on-time/").content.decode()
    assert 'data-group="mastodon"' in page and "30.0 s" in page
