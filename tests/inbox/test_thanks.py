"""Thank-you and follow-up suggestions: drafted on arrival or after closing, once per person
per post, in the conversation's language, sent through the reply path under the approval
rules, never without a person's say unless an admin turns auto-send on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.core.errors import Conflict, NotAllowed, NotFound
from chorus.governance.models import AuditEntry
from chorus.inbox import ingest, selectors, services, thanks
from chorus.inbox.models import Conversation, Reply, Suggestion
from chorus.networks.models import AccountGrant
from chorus.publishing import services as publishing
from tests.inbox.conftest import item, page
from tests.inbox.test_replies import Network

pytestmark = pytest.mark.django_db


@pytest.fixture
def our_post(account, owner):
    post = publishing.post_save(
        actor=owner,
        variants=[publishing.VariantInput(account_id=account.pk, text="Our new roast is here")],
    )
    variant = post.variants.get()
    variant.remote_id, variant.remote_url = "100", "https://mastodon.example/@brand/100"
    variant.save(update_fields=["remote_id", "remote_url"])
    return variant


@pytest.fixture
def saved(owner):
    services.saved_reply_save(actor=owner, name="Thanks", text="Thank you {name}! {agent}")
    services.saved_reply_save(actor=owner, name="Thanks", language="th", text="ขอบคุณครับคุณ {name}")
    services.saved_reply_save(actor=owner, name="Follow", text="All good now, {name}?")
    return thanks.thanks_settings_update(
        actor=owner,
        thank_you_reply="Thanks",
        follow_up_reply="Follow",
        follow_up_hours=24,
        auto_send=False,
    )


@pytest.fixture
def send_now(django_capture_on_commit_callbacks):
    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return thanks.suggestion_send(**kwargs)

    return run


def arrive(account, *items):
    ingest.store_page(account, page(*items), now=timezone.now())


def test_reposts_quotes_and_kind_replies_are_suggested_once_per_person_per_post(
    account, our_post, saved
):
    arrive(
        account,
        item("a1", kind="repost", author="bo@x", name="Bo"),
        item("m1", kind="quote", author="cy@x", text="Look at this"),
        item("m2", text="I love it, thank you so much!", author="di@x", name="Di"),
        item("m3", text="This is terrible and broken", author="ed@x"),
        item("m4", text="กาแฟอร่อยมาก ชอบมากครับ", author="fa@x"),  # Thai praise counts too
        item("m6", text="Der Kaffee ist wunderbar, vielen Dank!", author="ha@x"),  # no guess
        item("a2", kind="like", author="gi@x"),
    )
    arrive(account, item("m5", text="Great, thanks again!", author="di@x"))  # same post
    suggested = {s.contact.handle: s for s in Suggestion.objects.select_related("contact")}
    assert set(suggested) == {"bo@x", "cy@x", "di@x", "fa@x"}
    assert suggested["bo@x"].reason == "repost" and suggested["bo@x"].conversation is None
    assert suggested["bo@x"].text == "@bo@x Thank you Bo! {agent}"  # mentions the reposter
    assert suggested["cy@x"].reason == "quote" and suggested["di@x"].reason == "positive"
    assert suggested["fa@x"].reason == "positive"
    assert Conversation.objects.filter(contact__handle="bo@x").count() == 0  # still activity
    arrive(account, item("a1", kind="repost", author="bo@x"))  # seen again
    assert Suggestion.objects.count() == 4


def test_nothing_is_suggested_until_a_saved_reply_is_chosen(account, our_post, owner):
    arrive(account, item("a1", kind="repost", author="bo@x"))
    assert Suggestion.objects.count() == 0


def test_the_saved_reply_in_the_conversations_language_is_used(account, our_post, saved):
    arrive(account, item("m1", kind="quote", author="som@x", name="Som", text="กาแฟอร่อยมากครับ"))
    suggestion = Suggestion.objects.get()
    assert suggestion.language == "th" and suggestion.text == "ขอบคุณครับคุณ Som"


def test_sending_a_repost_thank_you_answers_our_post_once(
    account, our_post, saved, owner, monkeypatch, send_now
):
    network = Network(monkeypatch, ["r1", "r2"])
    arrive(account, item("a1", kind="repost", author="bo@x", name="Bo"))
    suggestion = selectors.open_suggestions(owner).get()
    send_now(actor=owner, suggestion_id=suggestion.pk)
    with pytest.raises(Conflict):
        thanks.suggestion_send(actor=owner, suggestion_id=suggestion.pk)  # a second click
    assert len(network.sent) == 1
    draft = network.sent[0]
    assert draft.reply_to.remote_id == "100"  # our own post, mentioning them
    assert draft.text.startswith("@bo@x Thank you Bo!")
    suggestion.refresh_from_db()
    assert suggestion.state == "sent" and suggestion.reply.state == "sent"
    conversation = suggestion.conversation
    assert conversation.opened_by_us and conversation.status == "closed"
    since = timezone.now() - timedelta(days=1)
    figures = selectors.response_figures(owner, since=since, until=timezone.now())
    assert figures.conversations == 0  # nobody was waiting for an answer
    assert not selectors.open_suggestions(owner).exists()


def test_an_edited_suggestion_is_sent_as_edited_in_its_thread(
    account, our_post, saved, owner, monkeypatch, send_now
):
    network = Network(monkeypatch, ["r1"])
    arrive(account, item("m1", kind="quote", author="cy@x"))
    suggestion = Suggestion.objects.get()
    send_now(actor=owner, suggestion_id=suggestion.pk, text="Cheers, {name}, from {agent}")
    assert network.sent[0].reply_to.remote_id == "m1"  # under their quote
    assert network.sent[0].text == f"Cheers, Ana, from {owner.user.display_name}"


def test_a_member_who_may_only_draft_sends_for_approval(
    account, our_post, saved, owner, make_member, monkeypatch, send_now
):
    network = Network(monkeypatch, ["r1"])
    contributor = make_member("contributor", workspace=owner.workspace)
    editor = make_member("editor", workspace=owner.workspace)
    grants = ((contributor, {"reply": True}), (editor, {"reply": True, "draft": True}))
    for member, levels in grants:
        AccountGrant.every.update_or_create(
            socialaccount=account, membership=member, defaults=levels
        )
    arrive(account, item("m1", kind="quote", author="cy@x"))
    suggestion = Suggestion.objects.get()
    send_now(actor=contributor, suggestion_id=suggestion.pk, text="Thanks a lot!")
    suggestion.refresh_from_db()
    assert suggestion.state == "awaiting" and suggestion.drafted_by == contributor
    assert not network.sent and not Reply.objects.exists()
    with pytest.raises(NotAllowed):  # draft-only on this account: cannot approve
        thanks.suggestion_send(actor=editor, suggestion_id=suggestion.pk)
    send_now(actor=owner, suggestion_id=suggestion.pk)
    assert network.sent[0].text == "Thanks a lot!"
    reply = Reply.objects.get()
    assert reply.author == contributor  # their words, approved
    suggestion.refresh_from_db()
    assert suggestion.decided_by == owner


def test_members_without_the_reply_level_cannot_send_and_viewers_cannot_dismiss(
    account, our_post, saved, owner, make_member
):
    editor = make_member("editor", workspace=owner.workspace)
    viewer = make_member("viewer", workspace=owner.workspace)
    stranger = make_member("owner")
    arrive(account, item("m1", kind="quote", author="cy@x"))
    suggestion = Suggestion.objects.get()
    with pytest.raises(NotAllowed):
        thanks.suggestion_send(actor=editor, suggestion_id=suggestion.pk)
    with pytest.raises(NotAllowed):
        thanks.suggestion_dismiss(actor=viewer, suggestion_id=suggestion.pk)
    with pytest.raises(NotFound):
        thanks.suggestion_dismiss(actor=stranger, suggestion_id=suggestion.pk)
    thanks.suggestion_dismiss(actor=editor, suggestion_id=suggestion.pk)
    with pytest.raises(Conflict):
        thanks.suggestion_send(actor=owner, suggestion_id=suggestion.pk)


def test_follow_ups_come_after_the_delay_for_answered_conversations_only(
    account, saved, owner, monkeypatch
):
    Network(monkeypatch, [])
    arrive(account, item("m1", author="cy@x", subject=""), item("m2", author="di@x", subject=""))
    answered, unanswered = Conversation.objects.order_by("contact__handle")
    closed = timezone.now() - timedelta(hours=25)
    Conversation.objects.filter(pk=answered.pk).update(first_response_at=closed)
    Conversation.objects.update(status="closed", closed_at=closed)
    assert thanks.suggest_follow_ups(timezone.now() - timedelta(hours=2)) == 0  # not yet
    assert thanks.suggest_follow_ups(timezone.now()) == 1
    assert thanks.suggest_follow_ups(timezone.now()) == 0  # once per conversation
    suggestion = Suggestion.objects.get()
    assert suggestion.conversation == answered and suggestion.kind == "follow_up"
    assert suggestion.text == "All good now, Ana?"


def test_auto_send_is_for_admins_audited_and_sends_as_them(
    account, our_post, saved, owner, make_member, monkeypatch, django_capture_on_commit_callbacks
):
    network = Network(monkeypatch, ["r1"])
    editor = make_member("editor", workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        thanks.thanks_settings_update(
            actor=editor,
            thank_you_reply="Thanks",
            follow_up_reply="",
            follow_up_hours=24,
            auto_send=True,
        )
    thanks.thanks_settings_update(
        actor=owner,
        thank_you_reply="Thanks",
        follow_up_reply="",
        follow_up_hours=24,
        auto_send=True,
    )
    entry = AuditEntry.objects.filter(action="inbox_rule_changed").latest("pk")
    assert entry.changes["after"]["auto_send"] is True
    with django_capture_on_commit_callbacks(execute=True):
        arrive(account, item("m1", kind="quote", author="cy@x"))
    assert Suggestion.objects.get().state == "sent"
    assert network.sent[0].text == f"Thank you Ana! {owner.user.display_name}"
    assert Reply.objects.get().author == owner
