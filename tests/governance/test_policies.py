"""Compliance policies: validation, checks in Thai and Khmer, links, disclaimers, audit."""

import pytest

from chorus.accounts.roles import Role
from chorus.core.errors import NotAllowed, NotFound, ServiceError
from chorus.governance import services
from chorus.governance.models import AuditAction, AuditEntry, Policy
from tests.governance.conftest import KHMER, THAI

pytestmark = pytest.mark.django_db


def banned(owner, terms, action="block", **kwargs):
    return services.policy_create(
        actor=owner,
        name=kwargs.pop("name", "Banned"),
        kind="banned_terms",
        action=action,
        terms=terms,
        **kwargs,
    )


def check(owner, text, **kwargs):
    return services.policy_check(workspace=owner.workspace, text=text, **kwargs)


def marked(text, violation):
    return [text[start:end] for start, end in violation.spans]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kind", "fields", "bad_field"),
    [
        ("banned_terms", {"terms": ["  ", ""]}, "terms"),
        ("banned_terms", {"terms": ["\u200b"]}, "terms"),
        ("banned_terms", {"patterns": ["(unclosed"]}, "patterns"),
        ("disclaimer", {"disclaimer": "   "}, "disclaimer"),
        ("link_deny", {"domains": []}, "domains"),
        ("link_deny", {"domains": ["not a domain"]}, "domains"),
        ("link_allow", {"domains": ["example.com", "-bad-.com"]}, "domains"),
        ("nonsense", {"terms": ["x"]}, "kind"),
    ],
)
def test_invalid_policies_are_refused_naming_the_field(owner, kind, fields, bad_field):
    with pytest.raises(ServiceError) as error:
        services.policy_create(actor=owner, name="P", kind=kind, **fields)
    assert error.value.field == bad_field
    assert error.value.message
    assert not Policy.objects.exists()


def test_unknown_action_and_empty_name_are_refused(owner):
    with pytest.raises(ServiceError) as error:
        services.policy_create(actor=owner, name="P", kind="banned_terms", terms=["x"], action="x")
    assert error.value.field == "action"
    with pytest.raises(ServiceError) as error:
        services.policy_create(actor=owner, name=" ", kind="banned_terms", terms=["x"])
    assert error.value.field == "name"


def test_domains_are_normalised(owner):
    policy = services.policy_create(
        actor=owner,
        name="Links",
        kind="link_deny",
        domains=["Example.COM", "https://Evil.example.org/path", "ตัวอย่าง.ไทย", "example.com"],
    )
    assert policy.domains == ["example.com", "evil.example.org", "xn--72c1a1bt4awk9o.xn--o3cw4h"]


@pytest.mark.parametrize("role", [Role.EDITOR, Role.CONTRIBUTOR, Role.VIEWER])
def test_only_admins_manage_policies(owner, make_member, role):
    member = make_member(role, workspace=owner.workspace)
    with pytest.raises(NotAllowed):
        banned(member, ["x"])
    policy = banned(owner, ["x"])
    with pytest.raises(NotAllowed):
        services.policy_update(actor=member, policy=policy, terms=["y"])
    with pytest.raises(NotAllowed):
        services.policy_delete(actor=member, policy=policy)


def test_policies_of_another_workspace_are_not_found(owner, make_member):
    stranger = make_member(Role.OWNER)
    policy = banned(owner, ["x"])
    with pytest.raises(NotFound):
        services.policy_update(actor=stranger, policy=policy, name="Mine")
    with pytest.raises(NotFound):
        services.policy_delete(actor=stranger, policy=policy)


# --------------------------------------------------------------------------- checks


def test_thai_banned_terms_match_inside_unspaced_text_only_on_word_boundaries(owner, seed_text):
    line = seed_text(THAI, "ข้อมูลประชากร")
    banned(owner, ["ข้อมูล", "ประชากร"])
    (violation,) = check(owner, line)
    assert set(marked(line, violation)) == {"ข้อมูล", "ประชากร"}
    assert violation.action == "block" and violation.blocks
    # The letters of มูล and ประชา sit inside those words, but no word starts or ends there.
    Policy.objects.all().delete()
    banned(owner, ["มูล", "ประชา"])
    assert check(owner, line) == []


def test_khmer_banned_terms_match_inside_unspaced_text_only_on_word_boundaries(owner, seed_text):
    line = seed_text(KHMER, "ថវិកាទីផ្សារ")
    banned(owner, ["ទីផ្សារ"], action="require_approval")
    (violation,) = check(owner, line)
    assert marked(line, violation) == ["ទីផ្សារ"]
    assert violation.action == "require_approval" and not violation.blocks
    Policy.objects.all().delete()
    banned(owner, ["ផ្សារ", "វិកា"])
    assert check(owner, line) == []


def test_phrases_ignore_case_and_spacing(owner):
    banned(owner, ["Guaranteed  Returns"])
    text = "Our fund: GUARANTEED\nreturns for all!"
    (violation,) = check(owner, text)
    assert marked(text, violation) == ["GUARANTEED\nreturns"]
    assert check(owner, "guaranteedreturns") == []


def test_patterns_match_as_regular_expressions(owner):
    banned(owner, [], patterns=[r"\b\d{3}-\d{4}\b"])
    text = "Call 555-1234 today"
    (violation,) = check(owner, text)
    assert marked(text, violation) == ["555-1234"]


def test_link_deny_list_catches_domains_and_subdomains(owner):
    services.policy_create(actor=owner, name="No rivals", kind="link_deny", domains=["rival.com"])
    text = "See https://shop.rival.com/deal and rival.com.evil.org and https://ours.org"
    (violation,) = check(owner, text)
    assert marked(text, violation) == ["https://shop.rival.com/deal"]
    assert "shop.rival.com" in violation.message


def test_link_allow_list_flags_every_other_domain_including_unlinked_cards(owner):
    services.policy_create(
        actor=owner,
        name="Ours only",
        kind="link_allow",
        domains=["ours.org"],
        action="require_approval",
    )
    text = "Read ours.org/news and https://blog.ours.org/x but also https://else.net/y"
    (violation,) = check(owner, text)
    assert marked(text, violation) == ["https://else.net/y"]
    (card,) = check(owner, "no links here", links=["https://other.example/card"])
    assert card.spans == [] and "other.example" in card.message
    assert check(owner, text.replace("https://else.net/y", "")) == []


def test_disclaimer_applies_to_chosen_accounts_only(owner, social_account):
    brand = social_account(owner.workspace, handle="brand@m.example")
    other = social_account(owner.workspace, handle="other@m.example")
    services.policy_create(
        actor=owner, name="Ads", kind="disclaimer", disclaimer="#โฆษณา", accounts=[brand]
    )
    text = "ลดราคา 50% วันนี้เท่านั้น"
    assert check(owner, text) == []  # no account chosen: account-specific rules wait
    assert check(owner, text, account=other) == []
    (violation,) = check(owner, text, account=brand)
    assert violation.kind == "disclaimer" and "#โฆษณา" in violation.message
    assert check(owner, text + " #โฆษณา", account=brand) == []


def test_inactive_policies_do_not_apply_and_blocking_ones_come_first(owner):
    banned(owner, ["alpha"], action="require_approval", name="A")
    banned(owner, ["beta"], name="Z")
    off = banned(owner, ["gamma"], name="Off")
    services.policy_update(actor=owner, policy=off, is_active=False)
    result = check(owner, "alpha beta gamma")
    assert [v.policy.name for v in result] == ["Z", "A"]


def test_account_of_another_workspace_is_refused(owner, make_member, social_account):
    stranger = make_member(Role.OWNER)
    with pytest.raises(NotFound):
        check(owner, "x", account=social_account(stranger.workspace))
    with pytest.raises(NotFound):
        banned(owner, ["x"], accounts=[social_account(stranger.workspace, handle="s@x.y")])


# --------------------------------------------------------------------------- audit


def test_every_policy_change_is_audited_with_before_and_after(owner):
    policy = banned(owner, ["ข้อมูล"])
    services.policy_update(actor=owner, policy=policy, terms=["ข้อมูล", "ประชากร"])
    services.policy_update(actor=owner, policy=policy, terms=["ข้อมูล", "ประชากร"])  # no-op
    services.policy_delete(actor=owner, policy=Policy.objects.get(pk=policy.pk))
    entries = list(AuditEntry.objects.filter(action=AuditAction.POLICY_CHANGED).order_by("seq"))
    assert len(entries) == 3
    created, changed, deleted = (e.changes for e in entries)
    assert created["before"] is None and created["after"]["terms"] == ["ข้อมูล"]
    assert changed == {
        "before": {"terms": ["ข้อมูล"]},
        "after": {"terms": ["ข้อมูล", "ประชากร"]},
    }
    assert deleted["after"] is None and deleted["before"]["name"] == "Banned"
    assert all(e.target_type == "governance.policy" for e in entries)
