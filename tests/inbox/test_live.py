"""Live update: the change probe of an open inbox page, and fast polling while it is open."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.inbox import ingest, live, services
from chorus.inbox.models import Conversation, PollState, Presence
from chorus.networks.models import ServerBudget, SocialAccount
from tests.inbox.conftest import item, page

pytestmark = pytest.mark.django_db


def probe(client, since="", conversation=None):
    query = {"since": since, **({"c": conversation.pk} if conversation else {})}
    return client.get("/inbox/changes/", query)


def token_of(response) -> str:
    return re.search(r"since=([\w.-]+)", response.content.decode()).group(1)


def events(response) -> set[str]:
    return set(json.loads(response["HX-Trigger"]))


@pytest.fixture
def hurried(monkeypatch):
    """The account ids whose polls were enqueued (the poll itself is not run)."""
    from chorus.inbox import tasks

    calls: list[int] = []
    monkeypatch.setattr(tasks, "poll_account", calls.append)
    return calls


def test_the_page_carries_the_probe_and_the_lists_listen_to_it(client, owner, account):
    ingest.store_page(account, page(item(1)), now=timezone.now())
    conversation = Conversation.objects.get()
    client.force_login(owner.user)
    body = client.get(f"/inbox/?c={conversation.pk}").content.decode()
    assert 'id="inbox-probe"' in body and 'hx-trigger="every 1s"' in body
    assert 'hx-trigger="inbox-list-changed from:body, every 15s"' in body
    assert 'hx-trigger="inbox-conversation-changed from:body, every 30s"' in body
    assert f'id="probe-conversation" name="c" value="{conversation.pk}"' in body


def test_the_probe_answers_no_change_then_changed_after_a_message_is_stored(
    client, owner, account, hurried
):
    ingest.store_page(account, page(item(1)), now=timezone.now())
    client.force_login(owner.user)
    token = token_of(client.get("/inbox/"))
    assert probe(client, token).status_code == 204
    assert probe(client, token).status_code == 204

    ingest.store_page(account, page(item(2, author="bo@x"), cursor="c2"), now=timezone.now())
    changed = probe(client, token)
    assert changed.status_code == 200
    assert events(changed) == {"inbox-list-changed"}
    fresh = token_of(changed)
    assert fresh != token and probe(client, fresh).status_code == 204


def test_a_pushed_message_counts_as_a_change_too(client, owner, account, hurried):
    from chorus.inbox import streams

    client.force_login(owner.user)
    token = token_of(client.get("/inbox/"))
    streams.store_streamed(account, [item(7, text="Pushed")])
    assert probe(client, token).status_code == 200


def test_a_member_of_another_workspace_sees_no_change(client, owner, account, make_member):
    stranger = make_member("owner")
    client.force_login(stranger.user)
    token = token_of(client.get("/inbox/"))
    ingest.store_page(account, page(item(1)), now=timezone.now())
    conversation = Conversation.objects.get()
    assert probe(client, token).status_code == 204
    # nor may they follow (or be seen viewing) a conversation of that workspace
    assert token.endswith(".-") and token_of(probe(client, "", conversation)) == token
    assert not Presence.objects.exists()


def test_the_open_conversation_changes_on_its_own(client, owner, account, hurried):
    ingest.store_page(account, page(item(1), item(2, author="bo@x")), now=timezone.now())
    ana = Conversation.objects.get(contact__handle="ana@example.org")
    client.force_login(owner.user)
    token = token_of(probe(client, "", ana))
    assert probe(client, token, ana).status_code == 204

    services.note_add(actor=owner, conversation=ana, text="Call her back")
    changed = probe(client, token, ana)
    assert events(changed) == {"inbox-conversation-changed"}
    token = token_of(changed)

    later = item(3, text="Still waiting", minutes_ago=0)
    ingest.store_page(account, page(later, cursor="c2"), now=timezone.now())
    assert events(probe(client, token, ana)) == {
        "inbox-list-changed",
        "inbox-conversation-changed",
    }


def test_the_probe_keeps_the_member_present_and_sees_others(
    client, owner, account, make_member, hurried
):
    ingest.store_page(account, page(item(1)), now=timezone.now())
    conversation = Conversation.objects.get()
    client.force_login(owner.user)
    token = token_of(probe(client, "", conversation))
    assert Presence.objects.get().member == owner

    colleague = make_member("editor", workspace=owner.workspace)
    from chorus.inbox import presence

    presence.presence_ping(actor=colleague, conversation=conversation)
    assert events(probe(client, token, conversation)) == {"inbox-conversation-changed"}


def test_an_action_in_the_pane_asks_the_list_to_refresh(client, owner, account):
    ingest.store_page(account, page(item(1)), now=timezone.now())
    conversation = Conversation.objects.get()
    client.force_login(owner.user)
    response = client.post(
        f"/inbox/{conversation.pk}/status/", {"status": "closed"}, headers={"HX-Request": "true"}
    )
    assert response["HX-Trigger"] == "inbox-list-changed"


# --------------------------------------------------------------------------- watched polling


def polled(account, seconds_ago: float, next_in: float, **fields) -> PollState:
    now = timezone.now()
    state, _created = PollState.objects.update_or_create(
        account=account,
        defaults={
            "last_poll_at": now - timedelta(seconds=seconds_ago),
            "next_poll_at": now + timedelta(seconds=next_in),
            "interval_seconds": 480,
            **fields,
        },
    )
    return state


def other_account(workspace, handle="other@mastodon.example"):
    other = SocialAccount(
        workspace=workspace,
        provider="mastodon",
        remote_id=handle,
        handle=handle,
        identity={"server_url": "https://mastodon.example", "account_id": "2"},
    )
    other.secrets = {"access_token": "t"}
    other.save()
    return other


def test_an_open_page_makes_its_workspaces_accounts_due_and_no_other(
    client, owner, account, make_member, hurried
):
    stranger = make_member("owner")
    theirs = other_account(stranger.workspace)
    polled(account, seconds_ago=10, next_in=470)
    polled(theirs, seconds_ago=10, next_in=470)
    client.force_login(owner.user)
    before = timezone.now()
    client.get("/inbox/")
    assert hurried == [account.pk]
    assert PollState.objects.get(account=account).next_poll_at <= timezone.now()
    assert PollState.objects.get(account=account).next_poll_at >= before
    assert PollState.objects.get(account=theirs).next_poll_at > timezone.now()
    assert ingest._claim(account, timezone.now()) is not None  # the worker may poll it now
    assert ingest._claim(theirs, timezone.now()) is None  # not before its interval


def test_an_account_polled_moments_ago_streaming_or_being_polled_waits(
    owner, account, membership_states, hurried
):
    now = timezone.now()
    cases = {
        "moments ago": {"seconds_ago": 1, "next_in": 479},
        "streaming": {"seconds_ago": 10, "next_in": 470, "stream_until": now + timedelta(60)},
        "being polled": {"seconds_ago": 10, "next_in": ingest.LEASE.total_seconds() - 10},
        "failing": {"seconds_ago": 10, "next_in": 470, "health": "failing"},
    }
    for n, (label, case) in enumerate(cases.items()):
        target = other_account(owner.workspace, handle=f"{n}@mastodon.example")
        state = polled(target, **case)
        assert live.hurry_watched(membership_states(owner), now) == [], label
        state.delete()
    assert hurried == []


@pytest.fixture
def membership_states():
    return lambda membership: live._states(membership.workspace_id)


def test_two_probes_hurry_an_account_once(owner, account, membership_states, hurried):
    polled(account, seconds_ago=10, next_in=470)
    now = timezone.now()
    first, second = membership_states(owner), membership_states(owner)  # read alike
    assert live.hurry_watched(first, now) == [account.pk]
    assert live.hurry_watched(second, now) == []
    assert hurried == [account.pk]


def test_a_nearly_spent_account_window_keeps_the_normal_interval(
    owner, account, membership_states, hurried
):
    now = timezone.now()
    account.rate_limit, account.rate_remaining = 300, 100  # a third left: below half
    account.rate_reset_at = now + timedelta(minutes=3)
    account.save()
    state = polled(account, seconds_ago=10, next_in=470)
    assert live.hurry_watched(membership_states(owner), now) == []
    assert PollState.objects.get(pk=state.pk).next_poll_at == state.next_poll_at

    account.rate_remaining = 200
    account.save()
    assert live.hurry_watched(membership_states(owner), now) == [account.pk]


def test_a_nearly_spent_server_budget_keeps_the_normal_interval(
    owner, account, membership_states, hurried, settings
):
    now = timezone.now()
    settings.CHORUS_SERVER_BUDGETS = {"mastodon": (100, 300)}
    account.server = "mastodon.example"
    account.save()
    ServerBudget.objects.create(
        provider="mastodon",
        server="mastodon.example",
        limit=100,
        used=60,
        window_ends_at=now + timedelta(minutes=4),
    )
    polled(account, seconds_ago=10, next_in=470)
    assert live.hurry_watched(membership_states(owner), now) == []
    ServerBudget.objects.update(used=40)
    assert live.hurry_watched(membership_states(owner), now) == [account.pk]


def test_a_claimed_poll_is_recognised_as_under_way(account):
    now = timezone.now()
    state = polled(account, seconds_ago=100, next_in=-1)
    assert ingest._claim(account, now) is not None
    state.refresh_from_db()
    assert state.last_poll_at == now
    assert ingest.under_way(state.next_poll_at, state.last_poll_at)
