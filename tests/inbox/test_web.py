"""The inbox pages: list, filters, search in Thai, open a conversation, act on it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chorus.inbox import ingest
from chorus.inbox.models import Conversation, Note
from tests.inbox.conftest import item, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(account):
    ingest.store_page(
        account,
        page(
            item(1, text="The beans arrived broken", author="ana@x"),
            item(2, text="กาแฟอร่อยมากครับ ขอบคุณ", author="som@x"),
            item(3, text="ខ្ញុំចូលចិត្ត\u200bកាហ្វេ", author="dara@x"),
        ),
        now=timezone.now(),
    )
    return {c.contact.handle: c for c in Conversation.objects.select_related("contact")}


def test_the_inbox_lists_and_searches_in_every_script(client, owner, stored):
    client.force_login(owner.user)
    body = client.get("/inbox/").content.decode()
    assert "The beans arrived broken" in body and 'href="/inbox/"' in body
    found = client.get("/inbox/", {"q": "อร่อย"}).content.decode()
    assert "กาแฟ" in found and "beans" not in found
    found = client.get("/inbox/", {"q": "កាហ្វេ"}).content.decode()
    assert "ខ្ញុំ" in found and "beans" not in found
    assert "beans" not in client.get("/inbox/", {"view": "mine"}).content.decode()


def test_opening_and_working_a_conversation(client, owner, stored):
    client.force_login(owner.user)
    conversation = stored["ana@x"]
    body = client.get(f"/inbox/?c={conversation.pk}").content.decode()
    assert 'id="reply-form"' in body
    client.post(f"/inbox/{conversation.pk}/assign/", {"to": "me"})
    client.post(f"/inbox/{conversation.pk}/notes/", {"text": "Call them"})
    client.post(f"/inbox/{conversation.pk}/status/", {"status": "closed"})
    conversation.refresh_from_db()
    assert conversation.assignee == owner and conversation.status == "closed"
    assert Note.objects.get().text == "Call them"
    fragment = client.get(f"/inbox/{conversation.pk}/timeline/").content.decode()
    assert "Call them" in fragment and "hx-trigger" in fragment


def test_members_without_the_reply_level_see_no_reply_box(client, owner, make_member, stored):
    editor = make_member("editor", workspace=owner.workspace)
    client.force_login(editor.user)
    conversation = stored["ana@x"]
    body = client.get(f"/inbox/?c={conversation.pk}").content.decode()
    assert 'id="reply-form"' not in body and 'id="no-reply"' in body
    response = client.post(f"/inbox/{conversation.pk}/reply/", {"text": "hi"})
    assert response.status_code == 302
    assert not conversation.replies.exists()


def test_setup_and_figures_pages(client, owner, stored):
    client.force_login(owner.user)
    client.post(
        "/inbox/setup/rules/new/",
        {"name": "Thai", "languages": "th", "add_tags": "thai", "is_active": "on"},
    )
    client.post("/inbox/setup/saved/new/", {"name": "Thanks", "text": "Thanks {name}!"})
    client.post("/inbox/setup/target/", {"first_response_minutes": "30"})
    body = client.get("/inbox/setup/").content.decode()
    assert "Thai" in body and "Thanks {name}!" in body and 'value="30"' in body
    assert client.get("/inbox/figures/?by=account").status_code == 200


def test_likes_on_our_post_show_beside_its_conversation(client, owner, account):
    from chorus.publishing import services as publishing
    from chorus.publishing.models import Variant

    post = publishing.post_save(
        actor=owner, variants=[publishing.VariantInput(account_id=account.pk, text="New roast")]
    )
    Variant.objects.filter(post=post).update(remote_id="100", status="published")
    ingest.store_page(
        account,
        page(item(1, subject="100"), item("n1", kind="like", subject="100", author="bo@x")),
        now=timezone.now(),
    )
    conversation = Conversation.objects.get()
    assert conversation.variant.post_id == post.pk
    client.force_login(owner.user)
    body = client.get(f"/inbox/?c={conversation.pk}").content.decode()
    assert "about our post" in body and "Like: 1" in body


def test_list_rows_escape_what_people_wrote_and_mark_the_open_one(client, owner, account):
    ingest.store_page(
        account,
        page(item(9, text='<script>alert("x")</script> & more', author="<b>eve</b>@x")),
        now=timezone.now(),
    )
    conversation = Conversation.objects.get()
    conversation.priority = 3
    conversation.save()
    client.force_login(owner.user)
    body = client.get(f"/inbox/?status=open&c={conversation.pk}").content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert(&quot;x&quot;)" in body
    assert "<b>eve" not in body and "&lt;b&gt;eve&lt;/b&gt;@x" in body
    row = body[body.rindex("<li ", 0, body.index(f'id="row-{conversation.pk}"')) :]
    assert row.startswith('<li class="conversation-row current"')
    assert f'hx-get="/inbox/{conversation.pk}/"' in row
    assert f'href="/inbox/?status=open&amp;c={conversation.pk}"' in row
    assert '<span class="badge warn">Urgent</span>' in row
    fragment = client.get("/inbox/list/", {"status": "closed"}).content.decode()
    assert 'id="inbox-empty"' in fragment and "hx-trigger" in fragment
