"""A listened Mastodon status from another server, opened in our account's inbox and
answered there, against the stateful Mastodon test server: the account's server knows the
status by its own id (found with /api/v2/search?resolve=true from the status' URI), and the
reply is threaded under it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chorus.inbox import replies
from chorus.inbox.models import Message
from chorus.listening import boards
from chorus.listening.models import Mention
from chorus.networks import services as network_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def brand(owner, mastodon_server):
    username, _ = mastodon_server.new_user("brand")
    url = network_services.oauth_begin(
        actor=owner, provider_key="mastodon", server_url=mastodon_server.base_url
    )
    code, state = mastodon_server.approve(url, username)
    return network_services.oauth_complete(actor=owner, state=state, code=code)


def test_a_remote_status_is_resolved_opened_and_answered_in_its_thread(
    owner, brand, mastodon_server
):
    acct, token = mastodon_server.new_remote_user("far.example")
    with mastodon_server.client(token) as far:
        status = far.post("/api/v1/statuses", data={"status": "Is chorus any good?"}).json()
    assert status["uri"] != status["id"]
    mention = Mention.objects.create(  # as the Mastodon source stores it: by its URI
        workspace=owner.workspace,
        network="mastodon",
        uri=status["uri"],
        url=status["url"],
        author=acct,
        text="Is chorus any good?",
        posted_at=timezone.now(),
    )
    conversation = boards.mention_open_in_inbox(actor=owner, mention=mention, account=brand)
    message = Message.objects.get(conversation=conversation)
    assert message.remote_id == str(status["id"])  # the server's own id, not the URI
    again = boards.mention_open_in_inbox(actor=owner, mention=mention, account=brand)
    assert again.pk == conversation.pk

    reply = replies.reply_create(actor=owner, conversation=conversation, text="It is!")
    reply.refresh_from_db()
    assert reply.state == "sent", reply.error
    with mastodon_server.client(token) as far:
        context = far.get(f"/api/v1/statuses/{status['id']}/context").json()
    answers = [s for s in context["descendants"] if s["id"] == reply.remote_id]
    assert len(answers) == 1 and answers[0]["in_reply_to_id"] == str(status["id"])


def test_a_status_the_server_cannot_find_is_refused(owner, brand):
    mention = Mention.objects.create(
        workspace=owner.workspace,
        network="mastodon",
        uri="https://nowhere.example/users/x/statuses/1",
        author="x@nowhere.example",
        text="gone",
        posted_at=timezone.now(),
    )
    with pytest.raises(Exception) as caught:
        boards.mention_open_in_inbox(actor=owner, mention=mention, account=brand)
    assert getattr(caught.value, "code", "") == "post_not_found"
    assert not Message.objects.filter(account=brand).exists()
