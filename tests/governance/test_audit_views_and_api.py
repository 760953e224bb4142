"""The audit log page, its CSV export, and the audit and policy API (scopes included)."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from chorus.accounts import services as accounts
from chorus.accounts.roles import Role
from chorus.accounts.scopes import Scope
from chorus.governance import services
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(owner, make_member):
    """A workspace with a few recorded actions, and another workspace's (never shown)."""
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    accounts.membership_change_role(actor=owner, membership=editor, role=Role.VIEWER)
    accounts.team_create(actor=owner, name="ទីផ្សារ")
    accounts.invitation_create(actor=owner, email="=cmd|calc@example.org", role="viewer")
    stranger = make_member(Role.OWNER)
    accounts.team_create(actor=stranger, name="Secret team")
    return editor


def csv_rows(content: bytes) -> list[dict]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


# --------------------------------------------------------------------------- web


def test_admins_see_their_workspace_log_only(client, owner, history):
    client.force_login(owner.user)
    response = client.get("/governance/audit/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "ទីផ្សារ" in page and history.user.email in page
    assert "Secret team" not in page


@pytest.mark.parametrize("role", [Role.EDITOR, Role.CONTRIBUTOR, Role.VIEWER])
def test_other_roles_cannot_open_or_export_the_log(client, owner, make_member, role):
    member = make_member(role, workspace=owner.workspace)
    client.force_login(member.user)
    assert client.get("/governance/audit/").status_code == 403
    assert client.get("/governance/audit/export.csv").status_code == 403
    assert "Audit log" not in client.get("/").content.decode()


def test_filters_by_action_actor_target_and_dates(client, owner, history):
    client.force_login(owner.user)

    def shown(**params):
        page = client.get("/governance/audit/", params).context["page"]
        return [entry.action for entry in page]

    assert shown(action="role_changed") == ["role_changed"]
    assert set(shown(actor=history.user.email)) == set()  # the editor did nothing
    assert "team_changed" in shown(actor=owner.user.email.upper())
    assert shown(target="ទីផ្សារ") == ["team_changed"]
    today = timezone.localdate()
    # Creation, role change, team, invitation, and the owner's own sign-in just now.
    assert len(shown(date_from=today.isoformat(), date_to=today.isoformat())) == 5
    assert shown(date_to=(today - timedelta(days=1)).isoformat()) == []
    assert shown(date_from=(today + timedelta(days=1)).isoformat()) == []


def test_members_sign_ins_appear_in_their_workspace_log(client, owner, make_member):
    from tests.conftest import PASSWORD

    stranger = make_member(Role.OWNER)
    client.post("/login/", {"username": owner.user.email, "password": PASSWORD})
    client.post("/logout/")
    client.post("/login/", {"username": stranger.user.email, "password": PASSWORD})
    client.post("/logout/")
    client.force_login(owner.user)
    page = client.get("/governance/audit/", {"action": "login"}).context["page"]
    assert [entry.actor_email for entry in page] == [owner.user.email] * 2  # + force_login
    assert stranger.user.email not in client.get("/governance/audit/").content.decode()


def test_pagination_keeps_the_filters(client, owner):
    for n in range(55):
        audit_record(
            action=AuditAction.POST_CREATED,
            actor=owner,
            workspace=owner.workspace,
            target=("publishing.post", n, f"post {n}"),
        )
    client.force_login(owner.user)
    first = client.get("/governance/audit/", {"action": "post_created"})
    assert len(first.context["page"]) == 50
    assert "action=post_created&amp;page=2" in first.content.decode()
    second = client.get("/governance/audit/", {"action": "post_created", "page": 2})
    assert [e.target_label for e in second.context["page"]] == [
        f"post {n}" for n in range(4, -1, -1)
    ]


def test_csv_export_follows_the_filters_and_defuses_formulas(client, owner, history):
    client.force_login(owner.user)
    response = client.get("/governance/audit/export.csv", {"action": "invitation_sent"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    (row,) = csv_rows(b"".join(response.streaming_content))
    assert row["action"] == "invitation_sent"
    assert row["target_label"].startswith("'=cmd|calc@example.org")  # not run as a formula
    entry = AuditEntry.objects.get(pk=row["id"])
    assert row["entry_hash"] == entry.entry_hash
    everything = csv_rows(b"".join(client.get("/governance/audit/export.csv").streaming_content))
    assert {r["target_label"] for r in everything} >= {"ទីផ្សារ"}
    assert "Secret team" not in {r["target_label"] for r in everything}


# --------------------------------------------------------------------------- API


def test_api_lists_filters_and_paginates(api, api_token_for, owner, history):
    token = api_token_for(owner, [Scope.AUDIT_READ])
    body = api.get("/audit?page_size=2", token=token).json()
    # Creation, role change, team, invitation, and the token made for this test.
    assert body["count"] == 5 and len(body["items"]) == 2
    assert [item["action"] for item in body["items"]] == ["api_token_created", "invitation_sent"]
    role = api.get("/audit?action=role_changed", token=token).json()
    assert role["count"] == 1
    assert role["items"][0]["changes"] == {
        "before": {"role": "editor"},
        "after": {"role": "viewer"},
    }
    assert api.get("/audit?target=%E1%9E%91%E1%9E%B8", token=token).json()["count"] == 1
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert api.get(f"/audit?date_from={tomorrow}", token=token).json()["count"] == 0
    assert api.get("/audit?action=nonsense", token=token).status_code == 422


def test_api_export_and_verify(api, api_token_for, owner, history):
    token = api_token_for(owner, [Scope.AUDIT_READ])
    response = api.get("/audit/export.csv?action=team_changed", token=token)
    assert response.status_code == 200
    rows = csv_rows(b"".join(response.streaming_content))
    assert [r["target_label"] for r in rows] == ["ទីផ្សារ"]
    report = api.get("/audit/verify", token=token).json()
    assert report == {"ok": True, "entries": 5, "first_broken_entry": None, "problem": None}


def test_audit_api_needs_the_scope_and_an_admin_role(api, api_token_for, owner, make_member):
    without = api_token_for(owner, [s for s in Scope.values if s != Scope.AUDIT_READ])
    for path in ("/audit", "/audit/export.csv", "/audit/verify"):
        response = api.get(path, token=without)
        assert response.status_code == 403 and "audit:read" in response.json()["error"]["message"]
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    editor_token = api_token_for(editor, [Scope.AUDIT_READ])
    for path in ("/audit", "/audit/export.csv", "/audit/verify"):
        assert api.get(path, token=editor_token).status_code == 403
    assert api.get("/audit").status_code == 401


def test_policy_api_crud_with_scopes(api, api_token_for, owner, make_member, social_account):
    account = social_account(owner.workspace)
    reader = api_token_for(owner, [Scope.WORKSPACE_READ])
    writer = api_token_for(owner, [Scope.POLICIES_WRITE])
    payload = {"name": "Thai", "kind": "banned_terms", "terms": ["ข้อมูล"], "accounts": [account.pk]}
    assert api.post("/policies", payload, token=reader).status_code == 403
    created = api.post("/policies", payload, token=writer)
    assert created.status_code == 201, created.content
    policy = created.json()
    assert policy["accounts"] == [account.pk] and policy["action"] == "block"
    pid = policy["id"]
    assert api.get(f"/policies/{pid}", token=writer).status_code == 403  # reads need workspace:read
    assert api.get(f"/policies/{pid}", token=reader).json()["terms"] == ["ข้อมูล"]
    patched = api.patch(f"/policies/{pid}", {"action": "require_approval"}, token=writer)
    assert patched.json()["action"] == "require_approval"
    assert patched.json()["terms"] == ["ข้อมูล"]  # untouched fields stay
    assert api.get("/policies", token=reader).json()["count"] == 1
    assert api.delete(f"/policies/{pid}", token=reader).status_code == 403
    assert api.delete(f"/policies/{pid}", token=writer).status_code == 204
    assert api.get(f"/policies/{pid}", token=reader).status_code == 404


def test_policy_api_reports_the_bad_field(api, api_token_for, owner):
    writer = api_token_for(owner, [Scope.POLICIES_WRITE])
    response = api.post(
        "/policies", {"name": "Re", "kind": "banned_terms", "patterns": ["(x"]}, token=writer
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["patterns"]
    response = api.post(
        "/policies", {"name": "L", "kind": "link_deny", "domains": ["a b"]}, token=writer
    )
    assert list(response.json()["error"]["fields"]) == ["domains"]


def test_policy_api_write_needs_an_admin_role(api, api_token_for, owner, make_member):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    token = api_token_for(editor, [Scope.POLICIES_WRITE, Scope.WORKSPACE_READ])
    response = api.post(
        "/policies", {"name": "x", "kind": "banned_terms", "terms": ["x"]}, token=token
    )
    assert response.status_code == 403
    assert api.get("/policies", token=token).status_code == 200  # everyone may read the rules


def test_policy_check_api(api, api_token_for, owner, make_member, seed_text):
    from tests.governance.conftest import KHMER

    services.policy_create(actor=owner, name="Km", kind="banned_terms", terms=["ទីផ្សារ"])
    viewer = make_member(Role.VIEWER, workspace=owner.workspace)
    token = api_token_for(viewer, [Scope.WORKSPACE_READ])
    line = seed_text(KHMER, "ថវិកាទីផ្សារ")
    body = api.post("/policies/check", {"text": line}, token=token).json()
    assert body["blocked"] is True and body["requires_approval"] is False
    (violation,) = body["violations"]
    start, end = violation["spans"][0]
    assert line[start:end] == "ទីផ្សារ"
    no_scope = api_token_for(viewer, [Scope.ACCOUNTS_READ])
    assert api.post("/policies/check", {"text": line}, token=no_scope).status_code == 403


def test_try_it_endpoint_returns_the_highlighted_partial(client, owner, make_member, seed_text):
    from tests.governance.conftest import THAI

    services.policy_create(actor=owner, name="Th", kind="banned_terms", terms=["ประชากร"])
    contributor = make_member(Role.CONTRIBUTOR, workspace=owner.workspace)
    client.force_login(contributor.user)
    line = seed_text(THAI, "ข้อมูลประชากร")
    response = client.post("/governance/policies/check/", {"text": line})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="violations"' in html
    assert html.count("<mark>") == 1 and "<mark>ประชากร</mark>" in html
    clean = client.post("/governance/policies/check/", {"text": "สวัสดี"}).content.decode()
    assert "<mark>" not in clean and "No policy objects" in clean
    escaped = client.post(
        "/governance/policies/check/", {"text": "<b>ประชากร</b>"}
    ).content.decode()
    assert "&lt;b&gt;<mark>ประชากร</mark>&lt;/b&gt;" in escaped
