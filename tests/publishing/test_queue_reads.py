"""The queue page's reads: the first few queued posts of each account, soonest first, and
how many wait in all; only queued, scheduled, future variants count."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from chorus.networks.models import SocialAccount
from chorus.publishing import queues, selectors
from chorus.publishing.models import Post, PostState, QueueSlot, Variant, VariantStatus


def account(workspace, handle):
    return SocialAccount.objects.create(
        workspace=workspace,
        provider="mastodon",
        remote_id=handle,
        handle=f"{handle}@example.social",
        identity={"server_url": "https://example.social"},
    )


def variant(owner, brand, when, *, via_queue=True, status=VariantStatus.SCHEDULED, text=""):
    post = Post.objects.create(
        workspace=owner.workspace,
        author=owner.user,
        state=PostState.SCHEDULED,
        via_queue=via_queue,
        scheduled_at=when,
    )
    return Variant.objects.create(
        post=post, account=brand, status=status, scheduled_at=when, text=text or f"at {when}"
    )


def test_first_queued_posts_of_each_account_soonest_first(owner):
    now = timezone.now()
    one, two, idle = (account(owner.workspace, h) for h in ("one", "two", "idle"))
    later = [variant(owner, one, now + timedelta(hours=h)) for h in (5, 1, 3)]
    same_time = [variant(owner, two, now + timedelta(hours=2)) for _ in range(2)]
    variant(owner, one, now + timedelta(minutes=30), via_queue=False)  # scheduled by hand
    variant(owner, one, now - timedelta(hours=1))  # already due
    variant(owner, two, now + timedelta(minutes=10), status=VariantStatus.FAILED)

    ids = [one.pk, two.pk, idle.pk]
    found = selectors.queued_variants_by_account(ids, after=now, limit=2)
    assert [v.pk for v in found[one.pk]] == [later[1].pk, later[2].pk]
    assert [v.pk for v in found[two.pk]] == sorted(v.pk for v in same_time)
    assert found[idle.pk] == []
    assert found[one.pk][0].text == later[1].text
    assert selectors.queued_counts(ids, after=now) == {one.pk: 3, two.pk: 2}
    assert selectors.queued_variants_by_account([], after=now) == {}


def test_more_accounts_than_one_statement_holds(owner, monkeypatch):
    monkeypatch.setattr(selectors, "QUEUE_PARTS_PER_QUERY", 2)
    now = timezone.now()
    brands = [account(owner.workspace, f"brand{n}") for n in range(5)]
    for n, brand in enumerate(brands):
        variant(owner, brand, now + timedelta(hours=n + 1))
    found = selectors.queued_variants_by_account([b.pk for b in brands], after=now, limit=3)
    assert [len(found[b.pk]) for b in brands] == [1] * 5
    assert all(found[b.pk][0].account_id == b.pk for b in brands)


def test_slots_as_rows_give_the_same_next_free_slot(owner):
    brand = account(owner.workspace, "brand")
    for weekday in range(7):
        QueueSlot.objects.create(account=brand, weekday=weekday, time="09:00")
        QueueSlot.objects.create(account=brand, weekday=weekday, time="18:30")
    now = timezone.now()
    loaded = SocialAccount.objects.select_related("workspace").prefetch_related("slots")
    accounts = list(loaded.filter(pk=brand.pk))
    rows = queues.slots_by_account([brand.pk])
    assert [(s.weekday, s.time.strftime("%H:%M")) for s in rows[brand.pk]][:2] == [
        (0, "09:00"),
        (0, "18:30"),
    ]
    first = queues.next_free_slots(accounts, after=now)[brand.pk]
    variant(owner, brand, first)  # the first slot is taken now
    with_models = queues.next_free_slots(accounts, after=now)[brand.pk]
    with_rows = queues.next_free_slots(accounts, after=now, slots=rows)[brand.pk]
    assert with_models == with_rows and with_rows > first
