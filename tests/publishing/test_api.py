"""The publishing API end to end: compose, validate, schedule, publish, on-time record."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.accounts.roles import Role
from chorus.publishing.dispatcher import Dispatcher
from chorus.text import count

pytestmark = pytest.mark.django_db


def test_compose_publish_now_and_read_the_outcome(api, owner, mastodon_account, api_token_for):
    token = api_token_for(owner)
    created = api.post(
        "/posts",
        {"accounts": [mastodon_account.pk], "text": "Habari kutoka Chorus", "schedule": "now"},
        token=token,
    )
    assert created.status_code == 201, created.json()
    post = created.json()
    assert post["state"] == "scheduled" and post["variants"][0]["status"] == "scheduled"
    Dispatcher().run_once()
    variant = api.get(f"/posts/{post['id']}", token=token).json()["variants"][0]
    assert variant["status"] == "published" and variant["remote_url"]
    assert variant["lateness_seconds"] is not None and variant["lateness_seconds"] >= 0
    record = api.get("/on-time?by=network", token=token).json()
    assert record[0]["group"] == "mastodon" and record[0]["published"] == 1


def test_validate_counts_like_the_network_and_names_problems(
    api, owner, mastodon_account, api_token_for
):
    token = api_token_for(owner)
    url = "https://example.org/" + "a" * 200
    response = api.post(
        "/posts/validate", {"accounts": [mastodon_account.pk], "text": f"សួស្តី {url}"}, token=token
    )
    assert response.status_code == 200
    lengths = response.json()[0]["lengths"][0]
    assert lengths["count"] == count("សួស្តី ", "graphemes") + 23 and not lengths["over"]
    too_long = api.post(
        "/posts/validate", {"accounts": [mastodon_account.pk], "text": "ก" * 501}, token=token
    ).json()[0]
    assert too_long["problems"][0]["field"] == "text"


def test_scheduling_an_invalid_post_is_refused_with_the_reason(
    api, owner, mastodon_account, api_token_for
):
    token = api_token_for(owner)
    response = api.post(
        "/posts",
        {
            "accounts": [mastodon_account.pk],
            "text": "x" * 600,
            "schedule": "at",
            "scheduled_at": (timezone.now() + timedelta(hours=1)).isoformat(),
        },
        token=token,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_post"
    assert "500" in response.json()["error"]["message"]


def test_contributor_submits_for_approval_but_cannot_publish_now(
    api, owner, make_member, mastodon_account, api_token_for
):
    from chorus.networks import services as network_services

    contributor = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    network_services.account_set_members(
        actor=owner, account=mastodon_account, memberships=[contributor]
    )
    token = api_token_for(contributor)
    draft = api.post("/posts", {"accounts": [mastodon_account.pk], "text": "idea"}, token=token)
    assert draft.status_code == 201
    refused = api.post(f"/posts/{draft.json()['id']}/publish-now", token=token)
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] and "approval" in refused.json()["error"]["message"]
    submitted = api.post(
        f"/posts/{draft.json()['id']}/schedule",
        {"scheduled_at": (timezone.now() + timedelta(hours=1)).isoformat()},
        token=token,
    )
    assert submitted.status_code == 200
    assert submitted.json()["state"] == "pending_approval"
    assert submitted.json()["variants"][0]["status"] == "draft"


def test_account_not_granted_is_refused(api, owner, make_member, mastodon_account, api_token_for):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    token = api_token_for(editor)
    response = api.post("/posts", {"accounts": [mastodon_account.pk], "text": "hi"}, token=token)
    assert response.status_code == 404


def test_read_scope_cannot_write(api, owner, mastodon_account, api_token_for):
    token = api_token_for(owner, scopes=["posts:read"])
    response = api.post("/posts", {"accounts": [mastodon_account.pk], "text": "hi"}, token=token)
    assert response.status_code == 403


def test_queue_slots_then_add_to_queue(api, owner, mastodon_account, api_token_for):
    token = api_token_for(owner)
    slots = [{"weekday": d, "time": "09:30"} for d in range(7)]
    assert api.put(f"/social-accounts/{mastodon_account.pk}/slots", slots, token=token).json()
    first = api.post(
        "/posts", {"accounts": [mastodon_account.pk], "text": "a", "schedule": "queue"}, token=token
    ).json()
    second = api.post(
        "/posts", {"accounts": [mastodon_account.pk], "text": "b", "schedule": "queue"}, token=token
    ).json()
    assert first["via_queue"] and second["via_queue"]
    assert second["scheduled_at"] > first["scheduled_at"]
