"""Storing polled pages: exactly once, cursor with the messages, activity apart."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chorus.inbox import ingest
from chorus.inbox.models import (
    Activity,
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    PollState,
    RoutingRule,
)
from tests.inbox.conftest import item, page

pytestmark = pytest.mark.django_db


def test_a_page_is_stored_once_however_often_it_is_seen(account):
    now = timezone.now()
    first = page(item(1), item(2, author="bo@example.org"), item(1), cursor="c1")
    stored = ingest.store_page(account, first, now=now)
    again = ingest.store_page(account, first, now=now)
    assert (stored.messages, again.messages) == (2, 0)
    assert Message.objects.filter(account=account).count() == 2
    assert Conversation.objects.count() == 2
    ana = Contact.objects.get(handle="ana@example.org")
    assert ana.messages_count == 1
    assert PollState.objects.get(account=account).cursor == "c1"


def test_the_cursor_moves_only_with_the_messages_it_covers(account, monkeypatch):
    now = timezone.now()
    ingest.store_page(account, page(item(1), cursor="c1"), now=now)

    def explode(*args, **kwargs):
        raise RuntimeError("crash while storing")

    monkeypatch.setattr(ingest, "_store_messages", explode)
    with pytest.raises(RuntimeError):
        ingest.store_page(account, page(item(2), cursor="c2"), now=now)
    assert PollState.objects.get(account=account).cursor == "c1"
    monkeypatch.undo()
    ingest.store_page(account, page(item(2), cursor="c2"), now=now)
    assert PollState.objects.get(account=account).cursor == "c2"
    assert Message.objects.count() == 2


def test_likes_reposts_and_follows_are_activity_not_conversations(account):
    now = timezone.now()
    items = [
        item("n1", kind="like", subject="100"),
        item("n2", kind="repost", subject="100", author="bo@example.org"),
        item("n3", kind="follow", subject=""),
    ]
    ingest.store_page(account, page(*items), now=now)
    ingest.store_page(account, page(*items), now=now)
    assert Conversation.objects.count() == 0
    assert Activity.objects.count() == 3
    assert Contact.objects.get(handle="ana@example.org").activity_count == 2


def test_replies_in_one_thread_share_a_conversation_and_reopen_it(account):
    now = timezone.now()
    ingest.store_page(account, page(item(1, minutes_ago=5)), now=now)
    conversation = Conversation.objects.get()
    conversation.status = ConversationStatus.CLOSED
    conversation.save()
    ingest.store_page(account, page(item(2, text="Still broken, I hate this")), now=now)
    conversation.refresh_from_db()
    assert conversation.message_count == 2
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.language == "en"
    assert conversation.sentiment == "negative"


def test_dms_group_by_conversation_and_unknown_kinds_are_kept(account):
    now = timezone.now()
    ingest.store_page(
        account,
        page(
            item("d1", kind="direct_message", subject="", conversation_id="42"),
            item("d2", kind="direct_message", subject="", conversation_id="42"),
            item("x1", kind="poll_ended", subject=""),
        ),
        now=now,
    )
    dm = Conversation.objects.get(key="dm:42")
    assert dm.kind == "direct" and dm.message_count == 2
    assert Message.objects.get(remote_id="x1").kind == "other"


def test_broken_unicode_is_stored_cleanly(account):
    ingest.store_page(account, page(item(1, text="caf\udce9 \x00ok សួស្ដី")), now=timezone.now())
    text = Message.objects.get().text
    assert "\x00" not in text and "សួស្ដី" in text


def test_backfill_keeps_only_the_last_fourteen_days_and_counts_progress(account):
    now = timezone.now()
    old = item(1, minutes_ago=15 * 24 * 60)
    ingest.store_page(account, page(old, item(2)), now=now)
    assert list(Message.objects.values_list("remote_id", flat=True)) == ["2"]
    assert PollState.objects.get(account=account).backfilled == 1


def test_thai_gets_a_sentiment_and_text_without_evidence_stays_unknown(account):
    ingest.store_page(
        account, page(item(1, text="กาแฟแย่มาก ไม่อร่อยเลย ผิดหวังจริงๆ")), now=timezone.now()
    )
    conversation = Conversation.objects.get()
    assert conversation.language == "th"
    assert conversation.sentiment == "negative"
    ingest.store_page(account, page(item(2, text="ร้านเปิดกี่โมงคะ พรุ่งนี้จะแวะไป")), now=timezone.now())
    conversation.refresh_from_db()
    assert conversation.sentiment == "unknown"  # the latest message says nothing either way


def test_rules_route_on_arrival_in_order(account, owner):
    RoutingRule.objects.create(
        workspace=owner.workspace,
        name="refunds",
        position=1,
        keywords=["คืนเงิน"],
        assign_to=owner,
        add_tags=["refund"],
        set_priority=3,
        stop=True,
    )
    RoutingRule.objects.create(
        workspace=owner.workspace,
        name="spam",
        position=2,
        keywords=["casino"],
        close_as_spam=True,
    )
    ingest.store_page(
        account,
        page(
            item(1, text="ขอคืนเงินด้วยครับ", author="a@x"),
            item(2, text="Win big at our casino", author="b@x"),
            item(3, text="ขอบคุณครับ", author="c@x", subject="200"),
        ),
        now=timezone.now(),
    )
    refund = Conversation.objects.get(key__endswith=":a@x")
    assert refund.assignee == owner and refund.priority == 3
    assert list(refund.tags.values_list("name", flat=True)) == ["refund"]
    spam = Conversation.objects.get(key__endswith=":b@x")
    assert spam.spam and spam.status == ConversationStatus.CLOSED
    assert Conversation.objects.get(key__endswith=":c@x").assignee is None


def test_polling_a_failing_account_records_health_and_backs_off(account, monkeypatch):
    from chorus.networks.providers.base import Transient
    from chorus.networks.providers.mastodon import Mastodon

    calls = []

    def fail(self, cursor=""):
        calls.append(cursor)
        raise Transient("Mastodon answered 500")

    monkeypatch.setattr(Mastodon, "fetch_interactions", fail)
    now = timezone.now()
    assert ingest.poll_account(account_id=account.pk, now=now) is None
    state = PollState.objects.get(account=account)
    assert state.health == "failing" and "500" in state.last_error
    assert state.next_poll_at > now
    assert ingest.poll_account(account_id=account.pk, now=now) is None  # not due yet
    assert len(calls) == 1


def test_polling_adapts_its_interval(account, monkeypatch):
    from chorus.networks.providers.mastodon import Mastodon

    pages = iter([page(item(1), cursor="a"), page(cursor="a"), page(cursor="a")])
    monkeypatch.setattr(Mastodon, "fetch_interactions", lambda self, cursor="": next(pages))
    now = timezone.now()
    ingest.poll_account(account_id=account.pk, now=now)
    state = PollState.objects.get(account=account)
    assert state.interval_seconds == ingest.FASTEST and state.backfill_done
    ingest.poll_account(account_id=account.pk, now=state.next_poll_at)
    state.refresh_from_db()
    quiet = state.interval_seconds
    ingest.poll_account(account_id=account.pk, now=state.next_poll_at)
    state.refresh_from_db()
    assert ingest.FASTEST < quiet < state.interval_seconds
    assert Message.objects.count() == 1


def test_edits_and_deletions_on_the_network_reach_stored_messages(account, client, owner):
    from dataclasses import replace

    from chorus.networks.providers.base import InteractionPage

    now = timezone.now()
    ingest.store_page(account, page(item(1, text="Where is my order?"), item(2)), now=now)
    edited = replace(item(1, text="Where is my order #42?"), edited_at=now)
    deleted = replace(item(2), deleted=True, text="")
    never_seen = replace(item(3), deleted=True)
    changes = InteractionPage(
        items=(edited, deleted, never_seen),
        cursor="c2",
        warnings=("Direct messages could not be read: reconnect with DM access.",),
    )
    stored = ingest.store_page(account, changes, now=now)
    assert stored.messages == 0, "changes never add messages, and a deleted unknown is skipped"
    first, second = Message.objects.filter(account=account).order_by("remote_id")
    assert (first.text, first.edited_at, first.deleted_at) == ("Where is my order #42?", now, None)
    assert second.deleted_at == now and second.text == "Hello there", "kept as it was said"
    state = PollState.objects.get(account=account)
    assert state.cursor == "c2" and "DM access" in state.notice

    client.force_login(owner.user)
    inbox = client.get("/inbox/").content.decode()
    assert "reconnect with DM access" in inbox
    timeline = client.get(f"/inbox/{second.conversation_id}/timeline/").content.decode()
    assert "Deleted on the network; kept here." in timeline
