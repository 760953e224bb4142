"""The inbox API: read with inbox:read, work with inbox:write, roles checked in services."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chorus.inbox import ingest
from chorus.inbox.models import Conversation
from tests.inbox.conftest import item, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(account):
    ingest.store_page(
        account,
        page(*[item(i, author=f"p{i}@x", text=f"Question number {i}") for i in range(5)]),
        now=timezone.now(),
    )


def test_list_pages_with_a_cursor(api, api_token_for, owner, stored):
    token = api_token_for(owner, ["inbox:read"])
    first = api.get("/inbox/conversations?size=3", token).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = api.get(f"/inbox/conversations?size=3&after={first['next_cursor']}", token).json()
    ids = [c["id"] for c in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 5 and not rest["next_cursor"]
    found = api.get("/inbox/conversations?q=number%203", token).json()["items"]
    assert [c["preview"] for c in found] == ["Question number 3"]


def test_work_a_conversation(api, api_token_for, owner, stored):
    token = api_token_for(owner, ["inbox:read", "inbox:write"])
    conversation = Conversation.objects.first()
    path = f"/inbox/conversations/{conversation.pk}"
    assert (
        api.post(f"{path}/assign", {"assignee": owner.pk, "note": "yours"}, token).json()[
            "assignee_id"
        ]
        == owner.pk
    )
    assert api.post(f"{path}/tags", {"add": ["VIP"]}, token).json()["tags"] == ["vip"]
    assert api.post(f"{path}/status", {"status": "closed"}, token).json()["status"] == "closed"
    detail = api.get(path, token).json()
    assert [e["type"] for e in detail["timeline"]] == ["message", "note"]
    mine = api.get("/inbox/conversations?view=mine&status=any", token).json()["items"]
    assert [c["id"] for c in mine] == [conversation.pk]
    figures = api.get("/inbox/figures?by=account", token).json()
    assert figures["conversations"] == 5 and figures["answered"] == 0


def test_a_reply_needs_the_accounts_reply_level(api, api_token_for, owner, make_member, stored):
    editor = make_member("editor", workspace=owner.workspace)
    token = api_token_for(editor, ["inbox:write"])
    conversation = Conversation.objects.first()
    response = api.post(f"/inbox/conversations/{conversation.pk}/reply", {"text": "hi"}, token)
    assert response.status_code == 403
    assert not conversation.replies.exists()
