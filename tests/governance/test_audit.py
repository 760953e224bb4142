"""The audit log: what gets recorded, the hash chain, append-only, verification."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from chorus.accounts import services as accounts
from chorus.accounts.models import ApiToken, Team
from chorus.accounts.roles import Role
from chorus.core.errors import NotAllowed
from chorus.governance.audit import audit_record, compute_hash
from chorus.governance.models import (
    GENESIS_HASH,
    AuditAction,
    AuditChain,
    AuditEntry,
    AuditLogIsAppendOnly,
)
from chorus.governance.selectors import audit_chain_verify

pytestmark = pytest.mark.django_db


def entries_of(workspace, action=None):
    entries = AuditEntry.objects.filter(workspace=workspace).order_by("seq")
    return list(entries.filter(action=action) if action else entries)


# --------------------------------------------------------------------------- recording


def test_membership_services_record_who_did_what_with_before_and_after(owner, make_member):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    accounts.membership_change_role(actor=owner, membership=editor, role=Role.ADMIN)
    (entry,) = entries_of(owner.workspace, AuditAction.ROLE_CHANGED)
    assert entry.actor_id == owner.user_id and entry.actor_email == owner.user.email
    assert entry.target_label == editor.user.email
    assert entry.changes == {"before": {"role": "editor"}, "after": {"role": "admin"}}

    editor_id = editor.pk
    accounts.membership_remove(actor=owner, membership=editor)
    (removed,) = entries_of(owner.workspace, AuditAction.MEMBER_REMOVED)
    assert removed.target_id == str(editor_id)
    assert removed.changes["before"] == {"role": "admin"}


def test_unchanged_role_is_not_recorded(owner, make_member):
    viewer = make_member(Role.VIEWER, workspace=owner.workspace)
    accounts.membership_change_role(actor=owner, membership=viewer, role=Role.VIEWER)
    assert entries_of(owner.workspace, AuditAction.ROLE_CHANGED) == []


def test_invitation_lifecycle_is_recorded(owner, make_member):
    invitation = accounts.invitation_create(actor=owner, email="Nia@Example.org", role="editor")
    accounts.invitation_revoke(actor=owner, invitation=invitation)
    second = accounts.invitation_create(actor=owner, email="ama@example.org", role="viewer")
    newcomer = accounts.invitation_sign_up(invitation=second, password="a-Long-passphrase-77")
    actions = [e.action for e in entries_of(owner.workspace)]
    assert actions[-4:] == [
        AuditAction.INVITATION_SENT,
        AuditAction.INVITATION_REVOKED,
        AuditAction.INVITATION_SENT,
        AuditAction.INVITATION_ACCEPTED,
    ]
    accepted = entries_of(owner.workspace, AuditAction.INVITATION_ACCEPTED)[0]
    assert accepted.actor_id == newcomer.pk and accepted.changes["after"] == {"role": "viewer"}
    sent = entries_of(owner.workspace, AuditAction.INVITATION_SENT)[0]
    assert sent.changes["after"]["email"] == "nia@example.org"


def test_team_and_token_and_workspace_changes_are_recorded(owner, make_member):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    team = accounts.team_create(actor=owner, name="Customer care")
    accounts.team_set_members(actor=owner, team=team, memberships=[editor])
    accounts.team_delete(actor=owner, team=Team.objects.get(pk=team.pk))
    team_changes = [e.changes for e in entries_of(owner.workspace, AuditAction.TEAM_CHANGED)]
    assert team_changes == [
        {"before": None, "after": {"name": "Customer care", "members": []}},
        {"before": {"members": []}, "after": {"members": [editor.user.email]}},
        {"before": {"name": "Customer care", "members": [editor.user.email]}, "after": None},
    ]

    token, raw = accounts.api_token_create(membership=editor, name="ci", scopes=["posts:read"])
    accounts.api_token_revoke(membership=owner, token=ApiToken.objects.get(pk=token.pk))
    created, revoked = (
        entries_of(owner.workspace, AuditAction.API_TOKEN_CREATED)[0],
        entries_of(owner.workspace, AuditAction.API_TOKEN_REVOKED)[0],
    )
    assert created.actor_id == editor.user_id and created.changes["after"]["scopes"] == [
        "posts:read"
    ]
    assert raw not in str(created.changes)  # the secret is never logged
    assert revoked.actor_id == owner.user_id and revoked.changes["before"]["owner"] == (
        editor.user.email
    )

    accounts.workspace_update(membership=owner, name="Acme Asia", workspace_timezone="Asia/Bangkok")
    changed = entries_of(owner.workspace, AuditAction.WORKSPACE_CHANGED)[-1]
    assert changed.changes == {
        "before": {"name": "Acme", "timezone": "UTC"},
        "after": {"name": "Acme Asia", "timezone": "Asia/Bangkok"},
    }


def test_social_account_disconnect_and_access_are_recorded(owner, make_member, social_account):
    from chorus.networks import services as networks

    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    account = social_account(owner.workspace)
    networks.account_set_members(actor=owner, account=account, memberships=[editor])
    networks.account_disconnect(actor=owner, account=account)
    access, disconnected = (
        entries_of(owner.workspace, AuditAction.ACCOUNT_ACCESS_CHANGED)[0],
        entries_of(owner.workspace, AuditAction.ACCOUNT_DISCONNECTED)[0],
    )
    assert access.changes["after"]["members"] == [editor.user.email]
    assert access.changes["after"]["levels"] == {editor.user.email: ["publish"]}
    assert disconnected.target_label == str(account)
    assert disconnected.changes["before"]["handle"] == account.handle


def test_refused_action_leaves_no_entry(owner, make_member):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    before = AuditEntry.objects.count()
    with pytest.raises(NotAllowed):
        accounts.membership_change_role(actor=editor, membership=owner, role=Role.VIEWER)
    assert AuditEntry.objects.count() == before


def test_web_request_address_and_browser_reach_the_entry(client, owner, make_member):
    viewer = make_member(Role.VIEWER, workspace=owner.workspace)
    client.force_login(owner.user)
    client.post(
        f"/members/{viewer.pk}/role/",
        {"role": "editor"},
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Firefox/140",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    (entry,) = entries_of(owner.workspace, AuditAction.ROLE_CHANGED)
    assert entry.ip_address == "203.0.113.9"  # the header is ignored: no trusted proxy
    assert entry.user_agent == "Firefox/140"


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(rf, settings):
    from chorus.governance.context import client_ip

    request = rf.get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7, 10.0.0.9"
    )
    assert client_ip(request) == "10.0.0.5"
    settings.CHORUS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    # Read from the right, skipping trusted hops: the spoofable left part is not used.
    assert client_ip(request) == "198.51.100.7"
    direct = rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(direct) == "192.0.2.1"


def test_sign_in_events_go_to_the_global_chain(client, owner):
    from tests.conftest import PASSWORD

    client.post("/login/", {"username": owner.user.email, "password": "nope"})
    client.post("/login/", {"username": "nobody@example.org", "password": "nope"})
    client.post("/login/", {"username": owner.user.email, "password": PASSWORD})
    client.post("/logout/")
    global_entries = list(AuditEntry.objects.filter(chain="global").order_by("seq"))
    assert [(e.action, e.actor_email) for e in global_entries] == [
        (AuditAction.LOGIN_FAILED, owner.user.email),
        (AuditAction.LOGIN_FAILED, "nobody@example.org"),
        (AuditAction.LOGIN, owner.user.email),
        (AuditAction.LOGOUT, owner.user.email),
    ]
    assert global_entries[0].actor_id == owner.user_id
    assert global_entries[1].actor_id is None
    assert all(e.workspace_id is None for e in global_entries)


# --------------------------------------------------------------------------- the chain


def test_entries_chain_their_hashes_per_workspace(owner, make_member):
    other = make_member(Role.OWNER)  # another workspace, another chain
    for name in ("One", "Two"):
        accounts.team_create(actor=owner, name=name)
    accounts.team_create(actor=other, name="Elsewhere")
    chain = entries_of(owner.workspace)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert chain[0].previous_hash == GENESIS_HASH
    for earlier, later in zip(chain, chain[1:], strict=False):
        assert later.previous_hash == earlier.entry_hash
    assert all(compute_hash(e) == e.entry_hash for e in chain)
    assert entries_of(other.workspace)[0].previous_hash == GENESIS_HASH
    head = AuditChain.objects.get(key=f"workspace:{owner.workspace_id}")
    assert (head.length, head.head_hash) == (len(chain), chain[-1].entry_hash)
    assert audit_chain_verify().ok


def test_orm_refuses_to_change_or_delete_entries(owner):
    entry = entries_of(owner.workspace)[0]
    entry.target_label = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(target_label="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.all().delete()


def test_database_refuses_raw_updates(owner):
    entry = entries_of(owner.workspace)[0]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE governance_auditentry SET target_label = %s WHERE id = %s",
            ["rewritten", entry.pk],
        )


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_also_refuses_raw_deletes(owner):
    entry = entries_of(owner.workspace)[0]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_auditentry WHERE id = %s", [entry.pk])


def _three_entries(owner):
    for name in ("A", "B", "C"):
        accounts.team_create(actor=owner, name=name)
    return entries_of(owner.workspace)


def test_verification_names_an_altered_entry(owner, tamper):
    chain = _three_entries(owner)
    victim = chain[2]
    tamper("UPDATE governance_auditentry SET target_label = %s WHERE id = %s", ["Z", victim.pk])
    report = audit_chain_verify(workspace=owner.workspace)
    assert not report.ok
    assert report.problem.entry_id == victim.pk and "altered" in report.problem.reason
    with pytest.raises(CommandError, match=f"entry #{victim.pk} "):
        call_command("verify_audit_chain")


def test_verification_notices_a_removed_entry_and_a_cut_tail(owner, tamper):
    chain = _three_entries(owner)
    tamper("DELETE FROM governance_auditentry WHERE id = %s", [chain[1].pk])
    report = audit_chain_verify(workspace=owner.workspace)
    assert report.problem.entry_id == chain[2].pk and "missing" in report.problem.reason


def test_verification_notices_entries_cut_from_the_end(owner, tamper):
    chain = _three_entries(owner)
    tamper("DELETE FROM governance_auditentry WHERE id = %s", [chain[-1].pk])
    report = audit_chain_verify(workspace=owner.workspace)
    assert not report.ok and report.problem.entry_id is None
    assert "removed from the end" in report.problem.reason


def test_verify_command_exits_non_zero_when_broken_and_zero_when_intact(owner, tamper, capsys):
    from django.core.management import ManagementUtility

    _three_entries(owner)
    call_command("verify_audit_chain", "--heads")
    assert "Audit log intact" in capsys.readouterr().out
    victim = entries_of(owner.workspace)[1]
    tamper("UPDATE governance_auditentry SET changes = %s WHERE id = %s", ["{}", victim.pk])
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["chorus", "verify_audit_chain"]).execute()
    assert exit_info.value.code != 0
    assert f"entry #{victim.pk}" in capsys.readouterr().err


def test_reserved_post_actions_can_be_recorded_by_other_apps(owner):
    entry = audit_record(
        action=AuditAction.POST_APPROVED,
        actor=owner,
        workspace=owner.workspace,
        target=("publishing.post", 42, "Launch day"),
        changes={"before": {"status": "pending"}, "after": {"status": "approved"}},
    )
    assert (entry.target_type, entry.target_id, entry.target_label) == (
        "publishing.post",
        "42",
        "Launch day",
    )
    assert audit_chain_verify(workspace=owner.workspace).ok


# --------------------------------------------------------------------------- concurrency


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_a_chain(owner):
    """SQLite has one writer at a time; PostgreSQL needs the head-row lock to keep order."""
    from django.db import connections

    errors = []
    barrier = threading.Barrier(8)

    def write(n):
        try:
            barrier.wait()
            for i in range(5):
                audit_record(
                    action=AuditAction.TEAM_CHANGED,
                    actor=owner,
                    workspace=owner.workspace,
                    target=("accounts.team", n * 100 + i, f"t{n}-{i}"),
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    chain = entries_of(owner.workspace)
    assert len(chain) == 1 + 8 * 5  # the workspace's creation, then every write
    assert audit_chain_verify(workspace=owner.workspace).ok
