"""Working the queue: statuses, assignment with a note, tags, bulk actions, rules, audit."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chorus.core.errors import NotAllowed, ServiceError
from chorus.governance.models import AuditEntry
from chorus.inbox import ingest, services
from chorus.inbox.models import Conversation, Note
from tests.inbox.conftest import item, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(account):
    ingest.store_page(account, page(item(1)), now=timezone.now())
    return Conversation.objects.get()


def test_assigning_records_a_note_and_an_audit_entry(conversation, owner, make_member):
    agent = make_member("editor", workspace=owner.workspace)
    services.conversation_assign(
        actor=owner, conversation=conversation, assignee_id=agent.pk, note="VIP customer"
    )
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    assert Note.objects.get(conversation=conversation).text == "VIP customer"
    entry = AuditEntry.objects.get(action="conversation_assigned")
    assert entry.changes["after"]["assignee"] == agent.pk


def test_viewers_cannot_work_the_queue(conversation, owner, make_member):
    viewer = make_member("viewer", workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        services.conversation_set_status(actor=viewer, conversation=conversation, status="closed")


def test_another_workspace_cannot_assign(conversation, make_member):
    stranger = make_member("owner")
    with pytest.raises(ServiceError):
        services.conversation_assign(actor=stranger, conversation=conversation, assignee_id=None)


def test_bulk_close_and_tag(account, owner):
    ingest.store_page(
        account, page(item(1), item(2, author="b@x"), item(3, author="c@x")), now=timezone.now()
    )
    ids = list(Conversation.objects.values_list("pk", flat=True))
    assert services.conversations_bulk(actor=owner, ids=ids[:2], action="tag", tag="Billing") == 2
    services.conversations_bulk(actor=owner, ids=ids[:2], action="close")
    assert Conversation.objects.filter(status="closed").count() == 2
    assert Conversation.objects.filter(tags__name="billing").count() == 2


def test_rule_changes_are_audited_and_checked(owner, make_member):
    with pytest.raises(ServiceError):
        services.rule_save(actor=owner, data={"name": "x", "languages": ["zz"]})
    rule = services.rule_save(actor=owner, data={"name": "Thai", "languages": ["th"]})
    services.rule_delete(actor=owner, rule=rule)
    assert AuditEntry.objects.filter(action="inbox_rule_changed").count() == 2
    editor = make_member("editor", workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        services.rule_save(actor=editor, data={"name": "no"})


def test_saved_replies_fill_only_their_variables(conversation, owner):
    saved = services.saved_reply_save(
        actor=owner, name="Thanks", text="Hi {name} ({handle}), {agent} here. {other}"
    )
    text = services.saved_reply_render(saved, conversation, owner)
    assert text.startswith("Hi Ana (@ana@example.org), ")
    assert text.endswith("here. {other}")
