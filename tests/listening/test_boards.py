"""Boards of saved mentions, and a mention opened in the inbox to be answered there: the
services, the API and the pages."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chorus.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from chorus.governance.models import AuditEntry
from chorus.inbox.models import Contact, Conversation, Message
from chorus.listening import boards, services
from chorus.listening.models import Mention
from chorus.networks.models import AccountGrant, SocialAccount
from tests.conftest import PASSWORD
from tests.listening.test_topics import incoming

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(owner):
    topic = services.topic_create(actor=owner, name="Coffee", kind="brand")
    services.query_create(actor=owner, topic=topic, name="Us", text="chorus")
    return topic


@pytest.fixture
def mention(topic):
    services.ingest(
        [incoming("Chorus made my morning", "at://did:plc:ann/app.bsky.feed.post/1", days_ago=1)]
    )
    return Mention.objects.get()


@pytest.fixture
def bluesky(owner):
    """A connected Bluesky account: the at:// URI of a post is its id for every account, so
    opening a mention in its inbox calls no network."""
    account = SocialAccount(
        workspace=owner.workspace,
        provider="bluesky",
        remote_id="did:plc:brand",
        handle="brand.example",
        identity={"did": "did:plc:brand", "pds_url": "https://pds.example"},
    )
    account.secrets = {"access_jwt": "a", "refresh_jwt": "r"}
    account.save()
    return account


# --------------------------------------------------------------------------- boards


def test_a_mention_is_saved_once_per_board_and_removed(owner, mention):
    praise = boards.board_create(actor=owner, name="Praise to share")
    crisis = boards.board_create(actor=owner, name="  Crisis   evidence ")
    assert crisis.name == "Crisis evidence"
    with pytest.raises(Conflict):
        boards.board_create(actor=owner, name="Praise to share")
    item = boards.board_save_mention(actor=owner, board=praise, mention=mention, note="Lovely")
    assert item.note == "Lovely" and item.saved_by == owner.user
    with pytest.raises(Conflict) as caught:
        boards.board_save_mention(actor=owner, board=praise, mention=mention)
    assert caught.value.code == "already_saved"
    boards.board_save_mention(actor=owner, board=crisis, mention=mention)  # another board
    assert mention.board_items.count() == 2
    boards.board_remove_mention(actor=owner, board=praise, mention=mention)
    assert list(mention.board_items.values_list("board__name", flat=True)) == ["Crisis evidence"]
    with pytest.raises(NotFound):
        boards.board_remove_mention(actor=owner, board=praise, mention=mention)
    with pytest.raises(ServiceError):
        boards.board_save_mention(actor=owner, board=praise, mention=mention, note="x" * 2001)


def test_board_changes_are_audited(owner, mention):
    before = AuditEntry.objects.filter(workspace=owner.workspace).count()
    board = boards.board_create(actor=owner, name="Praise")
    boards.board_save_mention(actor=owner, board=board, mention=mention, note="Share it")
    boards.board_remove_mention(actor=owner, board=board, mention=mention)
    boards.board_rename(actor=owner, board=board, name="Kind words")
    boards.board_delete(actor=owner, board=board)
    entries = AuditEntry.objects.filter(workspace=owner.workspace).order_by("seq")[before:]
    assert [e.target_type for e in entries] == ["listening.board"] * 5
    assert entries[1].changes["after"]["note"] == "Share it"


def test_only_editors_and_up_change_boards_and_other_workspaces_are_out_of_reach(
    make_member, owner, mention
):
    board = boards.board_create(actor=owner, name="Praise")
    contributor = make_member("contributor", workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        boards.board_create(actor=contributor, name="Mine")
    with pytest.raises(NotAllowed):
        boards.board_save_mention(actor=contributor, board=board, mention=mention)
    stranger = make_member("owner")
    with pytest.raises(NotFound):
        boards.board_save_mention(actor=stranger, board=board, mention=mention)
    elsewhere = boards.board_create(actor=stranger, name="Theirs")
    with pytest.raises(NotFound):
        boards.board_save_mention(actor=stranger, board=elsewhere, mention=mention)


def test_a_saved_mention_outlives_retention_and_its_queries(owner, topic, mention):
    services.ingest([incoming("chorus again", "at://old/2", days_ago=200)])
    old = Mention.objects.get(uri="at://old/2")
    Mention.objects.filter(pk=mention.pk).update(posted_at=timezone.now() - dt.timedelta(days=200))
    board = boards.board_create(actor=owner, name="Evidence")
    boards.board_save_mention(actor=owner, board=board, mention=mention)
    assert services.purge_expired() == 1
    assert not Mention.objects.filter(pk=old.pk).exists()
    services.topic_delete(actor=owner, topic=topic)
    assert Mention.objects.filter(pk=mention.pk).exists()


def test_the_board_page_lists_newest_saved_first_in_a_fixed_number_of_queries(owner, topic):
    board = boards.board_create(actor=owner, name="Praise")
    services.ingest([incoming(f"chorus {n}", f"at://p/{n}") for n in range(8)])
    mentions = list(Mention.objects.order_by("pk"))
    client = Client()
    client.login(email=owner.user.email, password=PASSWORD)

    def queries_for(count):
        for item in mentions[len(board.items.all()) : count]:
            boards.board_save_mention(actor=owner, board=board, mention=item, note=item.text)
        client.get(f"/listening/boards/{board.pk}/")  # warm per-process caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/listening/boards/{board.pk}/")
        assert response.status_code == 200
        return len(captured), response.content.decode()

    few, _html = queries_for(2)
    many, html = queries_for(8)
    assert few == many
    assert html.index("chorus 7") < html.index("chorus 0")


# --------------------------------------------------------------------------- open in inbox


def test_opening_a_mention_in_the_inbox_twice_gives_the_same_conversation(owner, mention, bluesky):
    first = boards.mention_open_in_inbox(actor=owner, mention=mention, account=bluesky)
    again = boards.mention_open_in_inbox(actor=owner, mention=mention, account=bluesky)
    assert first.pk == again.pk
    assert Conversation.objects.filter(account=bluesky).count() == 1
    message = Message.objects.get(conversation=first)
    assert (message.remote_id, message.kind, message.direction) == (
        mention.uri,
        "mention",
        "in",
    )
    assert message.contact.handle == "ann.example"
    assert Contact.objects.get(workspace=owner.workspace).messages_count == 1
    first.refresh_from_db()
    assert first.message_count == 1 and first.status == "open"
    assert "morning" in first.search_text and first.preview == "Chorus made my morning"


def test_opening_needs_the_reply_level_on_an_account_of_the_posts_network(
    make_member, owner, mention, bluesky
):
    contributor = make_member("contributor", workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        boards.mention_open_in_inbox(actor=contributor, mention=mention, account=bluesky)
    AccountGrant.every.create(socialaccount=bluesky, membership=contributor, reply=True)
    boards.mention_open_in_inbox(actor=contributor, mention=mention, account=bluesky)
    viewer = make_member("viewer", workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        boards.mention_open_in_inbox(actor=viewer, mention=mention, account=bluesky)
    mastodon = SocialAccount.objects.create(
        workspace=owner.workspace, provider="mastodon", remote_id="1", handle="brand@m.example"
    )
    with pytest.raises(ServiceError) as caught:
        boards.mention_open_in_inbox(actor=owner, mention=mention, account=mastodon)
    assert caught.value.code == "wrong_network"


# --------------------------------------------------------------------------- API and pages


def test_api(owner, make_member, mention, bluesky, api, api_token_for):
    token = api_token_for(owner, ["listening:read", "listening:write", "inbox:write"])
    created = api.post("/listening/boards", {"name": "Praise"}, token=token)
    assert created.status_code == 201, created.content
    board_id = created.json()["id"]
    saved = api.post(
        f"/listening/boards/{board_id}/mentions",
        {"mention_id": mention.pk, "note": "Share"},
        token=token,
    )
    assert saved.status_code == 201 and saved.json()["mention"]["uri"] == mention.uri
    again = api.post(f"/listening/boards/{board_id}/mentions", {"mention_id": mention.pk}, token)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_saved"
    listed = api.get(f"/listening/boards/{board_id}/mentions", token=token).json()
    assert listed["count"] == 1 and listed["items"][0]["note"] == "Share"
    assert api.get("/listening/boards", token=token).json()[0]["mention_count"] == 1
    renamed = api.patch(f"/listening/boards/{board_id}", {"name": "Kind words"}, token=token)
    assert renamed.json()["name"] == "Kind words"
    removed = api.delete(f"/listening/boards/{board_id}/mentions/{mention.pk}", token=token)
    assert removed.status_code == 204

    path = f"/listening/mentions/{mention.pk}/open-in-inbox"
    opened = api.post(path, {"account_id": bluesky.pk}, token=token)
    assert opened.status_code == 200, opened.content
    again = api.post(path, {"account_id": bluesky.pk}, token=token)
    assert again.json()["id"] == opened.json()["id"]
    assert opened.json()["contact_handle"] == "ann.example"

    contributor = make_member("contributor", workspace=owner.workspace)
    theirs = api_token_for(contributor, ["listening:read", "listening:write", "inbox:write"])
    refused = api.post(path, {"account_id": bluesky.pk}, token=theirs)
    assert refused.status_code == 403
    assert api.post("/listening/boards", {"name": "X"}, token=theirs).status_code == 403
    assert api.get(f"/listening/boards/{board_id}/mentions", token=theirs).status_code == 200


def test_pages_save_a_mention_and_open_it_in_the_inbox(owner, topic, mention, bluesky):
    board = boards.board_create(actor=owner, name="Praise")
    client = Client()
    client.login(email=owner.user.email, password=PASSWORD)
    page = client.get(f"/listening/topics/{topic.pk}/").content.decode()
    assert "Save to board" in page and "Answer in the inbox" in page
    back = f"/listening/topics/{topic.pk}/"
    response = client.post(
        f"/listening/mentions/{mention.pk}/save/",
        {"board": board.pk, "note": "For the newsletter", "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    board_page = client.get(f"/listening/boards/{board.pk}/").content.decode()
    assert "Chorus made my morning" in board_page and "For the newsletter" in board_page
    response = client.post(f"/listening/mentions/{mention.pk}/open/", {"account": bluesky.pk})
    conversation = Conversation.objects.get(account=bluesky)
    assert response.status_code == 302 and response["Location"] == f"/inbox/{conversation.pk}/"
    response = client.post(f"/listening/boards/{board.pk}/mentions/{mention.pk}/remove/")
    assert response.status_code == 302 and not board.items.exists()
