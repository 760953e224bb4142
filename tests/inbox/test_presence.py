"""Collision detection: two members on one conversation see each other viewing and
typing; a presence older than PRESENCE_SECONDS no longer shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chorus.inbox import ingest, presence
from chorus.inbox.models import Conversation, Presence
from tests.inbox.conftest import item, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(account):
    ingest.store_page(account, page(item(1, text="Where is my order?")), now=timezone.now())
    return Conversation.objects.get(account=account)


@pytest.fixture
def ana(make_member, owner):
    member = make_member("editor", workspace=owner.workspace, email="ana@example.org")
    member.user.full_name = "Ana"
    member.user.save()
    return member


def _timeline(client, conversation) -> str:
    return client.get(f"/inbox/{conversation.pk}/timeline/").content.decode()


def test_two_members_see_each_other_viewing_and_typing(owner, ana, conversation):
    me, her = Client(), Client()
    me.force_login(owner.user)
    her.force_login(ana.user)
    assert 'id="presence"' not in _timeline(me, conversation)  # alone

    _timeline(her, conversation)  # Ana opens it: her pane polls
    body = _timeline(me, conversation)
    assert "Ana is viewing" in body and "typing a reply" not in body

    sent = her.post(f"/inbox/{conversation.pk}/typing/", HTTP_HX_REQUEST="true")
    assert sent.status_code == 204
    _timeline(her, conversation)  # her next poll keeps the typing state
    body = _timeline(me, conversation)
    assert "Ana is typing a reply" in body and "Ana is viewing" not in body
    mine = _timeline(her, conversation)  # nobody sees themselves; Ana sees the owner
    assert "Ana is" not in mine and "is viewing" in mine


def test_presence_expires(owner, ana, conversation):
    long_ago = timezone.now() - timedelta(seconds=presence.PRESENCE_SECONDS + 1)
    presence.presence_ping(actor=ana, conversation=conversation, typing=True, now=long_ago)
    assert presence.present_others(actor=owner, conversation=conversation) == []
    assert not Presence.objects.filter(member=ana).exists()  # swept
    presence.presence_ping(actor=ana, conversation=conversation, typing=True, now=long_ago)
    presence.presence_ping(actor=ana, conversation=conversation)  # still here, stopped typing
    assert presence.present_others(actor=owner, conversation=conversation) == [
        presence.Present(name="Ana", typing=False)
    ]


def test_typing_needs_access_to_the_conversation(make_member, owner, conversation):
    viewer = make_member("viewer", workspace=owner.workspace, email="vi@example.org")
    client = Client()
    client.force_login(viewer.user)
    assert client.post(f"/inbox/{conversation.pk}/typing/").status_code == 403
    assert not Presence.objects.exists()
