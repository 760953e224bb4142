"""Issue 10.8: idempotent creates, bounded drafts and a JSON answer to an oversized body."""

import json

import pytest
from django.test import Client

from chorus.accounts.models import IdempotencyKey
from chorus.core.errors import ServiceError
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.publishing import services
from chorus.publishing.models import Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(owner):
    return SocialAccount.objects.create(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="brand",
        handle="brand@mastodon.example",
        identity={"server_url": "https://mastodon.example"},
        status=AccountStatus.ACTIVE,
    )


def post(token, body, key=None, raw=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    data = raw if raw is not None else json.dumps(body)
    return Client().post("/api/v1/posts", data, content_type="application/json", **headers)


# --------------------------------------------------------------------------- idempotency


def test_a_retried_create_with_the_same_key_makes_one_post(owner, account, api_token_for):
    token = api_token_for(owner, ["posts:write"])
    body = {"accounts": [account.pk], "text": "Once only · ครั้งเดียว"}
    first = post(token, body, key="retry-7f3a")
    again = post(token, body, key="retry-7f3a")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Post.objects.count() == 1
    assert post(token, body).status_code == 201  # no key: a new post each time
    assert Post.objects.count() == 2


def test_a_key_reused_for_another_request_is_refused(owner, account, api_token_for):
    token = api_token_for(owner, ["posts:write"])
    assert post(token, {"accounts": [account.pk], "text": "A"}, key="k1").status_code == 201
    other = post(token, {"accounts": [account.pk], "text": "B"}, key="k1")
    assert other.status_code == 400
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.json()["error"]["fields"]
    assert Post.objects.count() == 1


def test_a_key_still_in_use_answers_conflict(owner, account, api_token_for):
    token = api_token_for(owner, ["posts:write"])
    body = {"accounts": [account.pk], "text": "Slow"}
    first = post(token, body, key="k2")
    row = IdempotencyKey.objects.get(key="k2")
    row.status_code, row.response = None, None  # as if the first request were still running
    row.save()
    response = post(token, body, key="k2")
    assert first.status_code == 201 and response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_use"
    assert Post.objects.count() == 1


def test_a_failed_request_does_not_use_up_its_key(owner, account, api_token_for, make_member):
    token = api_token_for(owner, ["posts:write"])
    refused = post(token, {"accounts": [account.pk + 999], "text": "Hi"}, key="k3")
    assert refused.status_code == 404
    assert post(token, {"accounts": [account.pk], "text": "Hi"}, key="k3").status_code == 201
    stranger = make_member("owner")
    theirs = SocialAccount.objects.create(
        workspace=stranger.workspace, provider="mastodon", remote_id="x", handle="x@m.example"
    )
    stranger_token = api_token_for(stranger, ["posts:write"])
    theirs_created = post(stranger_token, {"accounts": [theirs.pk], "text": "Hi"}, key="k3")
    assert theirs_created.status_code == 201
    assert Post.objects.count() == 2


def test_an_unprintable_key_is_refused(owner, account, api_token_for):
    token = api_token_for(owner, ["posts:write"])
    response = post(token, {"accounts": [account.pk], "text": "Hi"}, key="x" * 300)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert not Post.objects.exists()


# --------------------------------------------------------------------------- draft bounds


def test_a_long_text_is_refused_naming_the_field(owner, account, api_token_for):
    """Under the 2.5 MB body limit (a megabyte of Khmer is 3 MB: 413, tested below)."""
    token = api_token_for(owner, ["posts:write"])
    response = post(token, {"accounts": [account.pk], "text": "ក" * 200_000})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_long" and list(error["fields"]) == ["text"]
    assert "200000 characters" in error["message"]
    assert not Post.objects.exists()


def test_ten_thousand_thread_parts_are_refused(owner, account):
    with pytest.raises(ServiceError) as refused:
        services.post_save(
            actor=owner,
            variants=[
                services.VariantInput(account_id=account.pk, text="1/", thread=["x"] * 10_000)
            ],
        )
    assert refused.value.field == "thread" and "at most 100 parts" in refused.value.message
    with pytest.raises(ServiceError) as refused:
        services.post_save(
            actor=owner,
            variants=[
                services.VariantInput(account_id=account.pk, text="1/", thread=["ok", "y" * 20_000])
            ],
        )
    assert refused.value.field == "thread.2"
    assert not Post.objects.exists()


def test_an_existing_draft_is_kept_when_an_edit_is_too_long(owner, account):
    saved = services.post_save(
        actor=owner, variants=[services.VariantInput(account_id=account.pk, text="Keep me")]
    )
    with pytest.raises(ServiceError):
        services.post_save(
            actor=owner,
            post=saved,
            variants=[services.VariantInput(account_id=account.pk, text="z" * 10_001)],
        )
    assert saved.variants.get().text == "Keep me"


# --------------------------------------------------------------------------- oversized bodies


def test_an_oversized_api_body_gets_a_json_error(owner, account, api_token_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    token = api_token_for(owner, ["posts:write"])
    body = json.dumps({"accounts": [account.pk], "text": "x" * 200_000})
    response = post(token, None, raw=body)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "too_large"
    assert not Post.objects.exists()
