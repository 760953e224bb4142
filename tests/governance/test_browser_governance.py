"""Governance in a real Chromium: a Thai policy and its try-it box; the audit log and CSV."""

import csv
import io

import pytest

from chorus.accounts import services as accounts
from chorus.accounts.roles import Role
from chorus.governance.models import AuditAction, AuditEntry, Policy
from tests.governance.conftest import THAI

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_creates_a_thai_policy_and_sees_the_highlight(signed_in_page, owner, seed_text):
    page = signed_in_page
    page.click("nav >> text=Policies")
    page.click("#new-policy")
    page.fill("#id_name", "ห้ามใช้คำ")
    page.select_option("#id_kind", "banned_terms")
    assert page.is_hidden("#id_domains")  # only the kind's own fields are shown
    page.fill("#id_terms", "ประชากร\nมูล")
    page.select_option("#id_action", "block")
    page.click("#save-policy")
    page.wait_for_selector("#policies >> text=ห้ามใช้คำ")
    policy = Policy.objects.get(workspace=owner.workspace)
    assert policy.terms == ["ประชากร", "มูล"]

    line = seed_text(THAI, "ข้อมูลประชากร")
    page.fill("#id_text", line)
    page.click("#check-text")
    page.wait_for_selector("#checked-text mark")
    marks = page.locator("#checked-text mark").all_inner_texts()
    assert marks == ["ประชากร"]  # มูล sits inside ข้อมูล: no word boundary, no match
    assert "blocked" in page.inner_text("#violations-summary")
    assert page.url.endswith("/governance/policies/")  # htmx swapped the partial in place

    page.fill("#id_text", "สวัสดีครับ")
    page.click("#check-text")
    page.wait_for_selector("#violations-summary.ok")


def test_audit_log_filters_and_exports_csv(signed_in_page, owner, make_member):
    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    accounts.membership_change_role(actor=owner, membership=editor, role=Role.VIEWER)
    accounts.team_create(actor=owner, name="ទីផ្សារ")
    page = signed_in_page
    page.click("nav >> text=Audit log")
    page.wait_for_selector("#audit-entries")
    page.select_option("#id_action", AuditAction.ROLE_CHANGED.value)
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url("**action=role_changed**")
    rows = page.locator("#audit-entries tbody tr")
    assert rows.count() == 1
    assert editor.user.email in rows.first.inner_text()

    with page.expect_download() as download_info:
        page.click("#audit-export")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    content = open(download.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    exported = list(csv.DictReader(io.StringIO(content)))
    assert [row["action"] for row in exported] == ["role_changed"]
    entry = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED)
    assert exported[0]["entry_hash"] == entry.entry_hash


def test_editors_do_not_see_the_audit_log(page, owner, make_member):
    from tests.conftest import PASSWORD

    editor = make_member(Role.EDITOR, workspace=owner.workspace)
    page.goto("/login/")
    page.fill("#id_username", editor.user.email)
    page.fill("#id_password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#workspace-switcher")
    nav = page.inner_text("nav")
    assert "Policies" in nav and "Audit log" not in nav
    page.click("nav >> text=Policies")
    assert page.locator("#new-policy").count() == 0
