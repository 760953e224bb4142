"""Times in the API (issue 10.5): one reading of a time without an offset, the workspace's."""

import datetime as dt

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

NAIVE = "2031-01-15T09:30:00"  # 09:30 in Bangkok (UTC+7) is 02:30 UTC
EXPECTED = dt.datetime(2031, 1, 15, 2, 30, tzinfo=dt.UTC)


@pytest.fixture
def bangkok(owner):
    owner.workspace.timezone = "Asia/Bangkok"
    owner.workspace.save()
    owner.user.timezone = "America/New_York"  # the person's own zone, used by the pages
    owner.user.save()
    return owner


def _stored(post_id: int) -> dt.datetime:
    from chorus.publishing.models import Post

    return Post.objects.get(pk=post_id).scheduled_at


def test_a_time_without_offset_is_the_workspaces_through_a_token(
    api, bangkok, mastodon_account, api_token_for
):
    token = api_token_for(bangkok)
    created = api.post(
        "/posts",
        {"accounts": [mastodon_account.pk], "text": "hi", "schedule": "at", "scheduled_at": NAIVE},
        token=token,
    )
    assert created.status_code == 201, created.content
    assert _stored(created.json()["id"]) == EXPECTED
    draft = api.post("/posts", {"accounts": [mastodon_account.pk], "text": "later"}, token=token)
    scheduled = api.post(
        f"/posts/{draft.json()['id']}/schedule", {"scheduled_at": NAIVE}, token=token
    )
    assert scheduled.status_code == 200
    assert _stored(draft.json()["id"]) == EXPECTED


def test_the_same_time_means_the_same_through_the_browser_session(bangkok, mastodon_account):
    client = Client()
    client.force_login(bangkok.user)
    created = client.post(
        "/api/v1/posts",
        {"accounts": [mastodon_account.pk], "text": "hi", "schedule": "at", "scheduled_at": NAIVE},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert _stored(created.json()["id"]) == EXPECTED


def test_the_openapi_schema_says_how_times_are_read(api):
    schema = api.get("/openapi.json").json()
    assert "workspace's time zone" in schema["info"]["description"]
    fields = schema["components"]["schemas"]["PostIn"]["properties"]
    assert "workspace's time zone" in fields["scheduled_at"]["description"]
