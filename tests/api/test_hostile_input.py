"""Inputs that used to cause server errors (issue 10.6): each is now a 4xx in the JSON shape."""

import json

import pytest

from chorus.api.inputs import MAX_ID, MAX_PAGE

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(owner):
    from chorus.networks.models import AccountStatus, SocialAccount

    row = SocialAccount(
        workspace=owner.workspace,
        provider="mastodon",
        remote_id="1",
        handle="brand@mastodon.test",
        identity={"server_url": "https://192.0.2.1", "account_id": "1"},
        server="192.0.2.1",
        status=AccountStatus.ACTIVE,
        connected_by=owner.user,
    )
    row.secrets = {"access_token": "unused"}
    row.save()
    return row


@pytest.fixture
def token(owner, api_token_for):
    return api_token_for(owner)


def _error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


def test_a_huge_page_is_refused_naming_the_parameter(api, token):
    for path in ("/posts", "/members", "/audit", "/policies", "/tokens"):
        error = _error(api.get(f"{path}?page={10**19}", token=token), 422)
        assert "page" in error["fields"]
    assert api.get(f"/posts?page={MAX_PAGE}", token=token).json()["items"] == []


def test_ids_beyond_64_bits_are_refused_and_the_largest_is_simply_not_found(api, token):
    for path in (f"/posts/{2**64}", f"/policies/{2**63}", f"/social-accounts/{2**70}"):
        assert "fields" in _error(api.get(path, token=token), 422)
    assert _error(api.get(f"/posts/{MAX_ID}", token=token), 404)["code"] == "not_found"
    body = {"accounts": [2**64], "text": "hi"}
    assert "accounts.0" in _error(api.post("/posts", body, token=token), 422)["fields"]


def test_a_queue_slot_time_with_an_offset_is_refused(api, token, account):
    slots = [{"weekday": 1, "time": "09:30:00+02:00"}]
    error = _error(api.put(f"/social-accounts/{account.pk}/slots", slots, token=token), 422)
    assert any(name.endswith("time") for name in error["fields"])


def test_a_lone_surrogate_in_post_text_is_refused_naming_the_field(client, token, account):
    body = '{"accounts": [' + str(account.pk) + '], "text": "caf\\ud800e"}'
    response = client.post(
        "/api/v1/posts",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert json.loads(body)["text"] == "caf\ud800e"  # valid JSON, invalid Unicode
    assert "text" in _error(response, 422)["fields"]


def test_times_at_the_ends_of_the_calendar_are_refused(api, token, account):
    for moment in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"):
        body = {"accounts": [account.pk], "text": "hi", "schedule": "at", "scheduled_at": moment}
        assert "scheduled_at" in _error(api.post("/posts", body, token=token), 422)["fields"]
    assert "date_from" in _error(api.get("/audit?date_from=0001-01-01", token=token), 422)["fields"]


def test_csv_times_at_year_one_are_a_row_error(owner, account):
    from chorus.publishing.imports import posts_import_csv

    data = f"account,text,scheduled_at\n{account.handle},hi,0001-01-01 00:00\n".encode()
    report = posts_import_csv(actor=owner, data=data, commit=True)
    assert not report.ok and not report.committed
    assert any("1900" in error for error in report.rows[0].errors)


def test_a_policy_deleted_during_its_update_is_not_found(owner):
    from chorus.core.errors import NotFound
    from chorus.governance import services
    from chorus.governance.models import Policy

    policy = services.policy_create(actor=owner, name="P", kind="banned_terms", terms=["x"])
    stale = Policy.objects.get(pk=policy.pk)
    Policy.objects.filter(pk=policy.pk).delete()
    with pytest.raises(NotFound):
        services.policy_update(actor=owner, policy=stale, name="Q")


def test_every_operation_documents_its_error_answers(api):
    schema = api.get("/openapi.json").json()
    assert "Error" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"400", "401", "403", "404", "422"} <= documented, (method, path)


def test_an_unexpected_failure_is_answered_in_the_json_shape(api, token, monkeypatch):
    from chorus.accounts import selectors

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "tokens_of", broken)
    error = _error(api.get("/tokens", token=token), 500)
    assert error["code"] == "server_error" and "boom" not in error["message"]


def test_a_session_cookie_django_never_issued_is_no_session(client, owner):
    """`sessionid="\\000…"`: the cookie parser decodes the octal escape to NUL, which
    PostgreSQL refuses in a query; the request must stay an anonymous one, not a 500."""
    from chorus.accounts.sessions import SessionStore

    for key in ("\x00" * 32, "abc\x00defghijk", "ABCDEFGHIJKLMNOP", "a" * 7):
        assert SessionStore(key).session_key is None
    hostile = {"HTTP_COOKIE": 'sessionid="' + "\\000" * 9 + '"'}
    assert client.get("/api/v1/posts", **hostile).status_code == 401
    assert client.get("/", **hostile).status_code == 302
    client.force_login(owner.user)
    issued = client.cookies["sessionid"].value
    assert SessionStore(issued).session_key == issued
    assert client.get("/api/v1/posts").status_code == 200


def test_a_nul_character_is_refused_naming_the_field_on_every_database(client, token):
    body = '{"name": "Launch\\u0000", "description": "ok"}'
    response = client.post(
        "/api/v1/campaigns",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert "name" in _error(response, 422)["fields"]
    listed = client.get("/api/v1/campaigns", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert listed.status_code == 200, "the connection is still usable afterwards"
