"""Writes and rules for governance: the audit log, compliance policies, sign-in safety.

- `audit_record` (from `governance.audit`) appends to the hash-chained audit log.
- `policy_create/update/delete` manage compliance policies (admins), each change audited;
  `policy_check` runs a workspace's policies over a text and returns the violations.
- `login_*` throttle password guessing; `session_*` track and end a person's sessions.
"""

from __future__ import annotations

from datetime import timedelta

import regex
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chorus.accounts.models import Membership, User, Workspace
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import NotFound, ServiceError
from chorus.governance.audit import audit_record, snapshot
from chorus.governance.models import (
    AuditAction,
    LoginFailure,
    Policy,
    PolicyAction,
    PolicyKind,
    UserSession,
)
from chorus.governance.policies import Violation, compile_pattern, evaluate, normalize_domain
from chorus.networks.models import SocialAccount

__all__ = [
    "Throttled",
    "Violation",
    "audit_record",
    "login_failure_record",
    "login_attempt_begin",
    "policy_check",
    "policy_create",
    "policy_delete",
    "policy_update",
    "session_forget",
    "session_track",
    "sessions_end_for",
]


# --------------------------------------------------------------------------- policies

MAX_TERMS = 1000
MAX_TERM_LENGTH = 200
POLICY_FIELDS = ["name", "kind", "action", "terms", "patterns", "disclaimer", "domains"]


def _clean_lines(values) -> list[str]:
    if isinstance(values, str):
        values = values.splitlines()
    return list(dict.fromkeys(v.strip() for v in values or [] if v and v.strip()))


def _check_policy(
    *,
    name: str,
    kind: str,
    action: str,
    terms: list[str],
    patterns: list[str],
    disclaimer: str,
    domains: list[str],
) -> dict:
    """Validate and normalise a policy's fields; raise ServiceError naming the bad field."""
    name = name.strip()
    if not name:
        raise ServiceError(_("A policy needs a name."), field="name")
    if kind not in PolicyKind.values:
        raise ServiceError(_("Unknown kind of policy."), field="kind")
    if action not in PolicyAction.values:
        raise ServiceError(_("Choose “block” or “require approval”."), field="action")
    terms, patterns, domains = _clean_lines(terms), _clean_lines(patterns), _clean_lines(domains)
    disclaimer = (disclaimer or "").strip()
    cleaned = {"name": name, "kind": kind, "action": action}
    if kind == PolicyKind.BANNED_TERMS:
        if not terms and not patterns:
            raise ServiceError(
                _("List at least one banned term or phrase (one per line)."), field="terms"
            )
        if len(terms) > MAX_TERMS:
            raise ServiceError(
                _("At most %(count)d terms per policy.") % {"count": MAX_TERMS}, field="terms"
            )
        for term in terms:
            if len(term) > MAX_TERM_LENGTH:
                raise ServiceError(
                    _("“%(term)s…” is too long for a term.") % {"term": term[:30]},
                    field="terms",
                )
        for pattern in patterns:
            try:
                compile_pattern(pattern)
            except regex.error as exc:
                raise ServiceError(
                    _("“%(pattern)s” is not a valid pattern: %(reason)s")
                    % {"pattern": pattern, "reason": exc},
                    field="patterns",
                ) from exc
        cleaned.update(terms=terms, patterns=patterns, disclaimer="", domains=[])
    elif kind == PolicyKind.DISCLAIMER:
        if not disclaimer:
            raise ServiceError(_("Enter the disclaimer posts must carry."), field="disclaimer")
        cleaned.update(terms=[], patterns=[], disclaimer=disclaimer, domains=[])
    else:
        if not domains:
            raise ServiceError(_("List at least one domain (one per line)."), field="domains")
        normalised = []
        for domain in domains:
            try:
                normalised.append(normalize_domain(domain))
            except ValueError as exc:
                raise ServiceError(
                    _("“%(domain)s” is not a domain such as example.com.") % {"domain": domain},
                    field="domains",
                ) from exc
        cleaned.update(
            terms=[], patterns=[], disclaimer="", domains=list(dict.fromkeys(normalised))
        )
    # TermMatcher refuses terms that fold to nothing (e.g. only invisible characters).
    if kind == PolicyKind.BANNED_TERMS:
        from chorus.text import TermMatcher

        try:
            TermMatcher(cleaned["terms"])
        except ValueError as exc:
            raise ServiceError(
                _("A term is empty once invisible characters are removed."), field="terms"
            ) from exc
    return cleaned


def _check_accounts(workspace: Workspace, accounts: list[SocialAccount] | None) -> list:
    accounts = list(accounts or [])
    if any(account.workspace_id != workspace.pk for account in accounts):
        raise NotFound(_("No such social account."), field="accounts")
    return accounts


def _policy_snapshot(policy: Policy) -> dict:
    data = snapshot(policy, POLICY_FIELDS + ["is_active"])
    data["accounts"] = sorted(policy.accounts.values_list("handle", flat=True))
    return data


@transaction.atomic
def policy_create(
    *,
    actor: Membership,
    name: str,
    kind: str,
    action: str = PolicyAction.BLOCK,
    terms: list[str] | None = None,
    patterns: list[str] | None = None,
    disclaimer: str = "",
    domains: list[str] | None = None,
    accounts: list[SocialAccount] | None = None,
    is_active: bool = True,
) -> Policy:
    check_capability(actor, Capability.MANAGE_POLICIES)
    cleaned = _check_policy(
        name=name,
        kind=kind,
        action=action,
        terms=terms or [],
        patterns=patterns or [],
        disclaimer=disclaimer,
        domains=domains or [],
    )
    chosen = _check_accounts(actor.workspace, accounts)
    policy = Policy.objects.create(
        workspace=actor.workspace, created_by=actor.user, is_active=is_active, **cleaned
    )
    policy.accounts.set(chosen)
    audit_record(
        action=AuditAction.POLICY_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=policy,
        changes={"before": None, "after": _policy_snapshot(policy)},
    )
    return policy


_UNSET = object()


@transaction.atomic
def policy_update(
    *,
    actor: Membership,
    policy: Policy,
    name=_UNSET,
    kind=_UNSET,
    action=_UNSET,
    terms=_UNSET,
    patterns=_UNSET,
    disclaimer=_UNSET,
    domains=_UNSET,
    accounts=_UNSET,
    is_active=_UNSET,
) -> Policy:
    """Change the given fields (others stay as they are); the change is audited."""
    check_capability(actor, Capability.MANAGE_POLICIES)
    if policy.workspace_id != actor.workspace_id:
        raise NotFound(_("No such policy."))
    try:
        policy = Policy.objects.select_for_update().get(pk=policy.pk)
    except Policy.DoesNotExist as exc:  # deleted by someone else meanwhile
        raise NotFound(_("No such policy.")) from exc
    before = _policy_snapshot(policy)
    given = {
        "name": name,
        "kind": kind,
        "action": action,
        "terms": terms,
        "patterns": patterns,
        "disclaimer": disclaimer,
        "domains": domains,
    }
    merged = {
        key: (getattr(policy, key) if value is _UNSET else value) for key, value in given.items()
    }
    cleaned = _check_policy(**merged)
    for key, value in cleaned.items():
        setattr(policy, key, value)
    if is_active is not _UNSET:
        policy.is_active = bool(is_active)
    policy.save()
    if accounts is not _UNSET:
        policy.accounts.set(_check_accounts(actor.workspace, accounts))
    after = _policy_snapshot(policy)
    if after != before:
        changed = [key for key in after if after[key] != before[key]]
        audit_record(
            action=AuditAction.POLICY_CHANGED,
            actor=actor,
            workspace=actor.workspace,
            target=policy,
            changes={
                "before": {key: before[key] for key in changed},
                "after": {key: after[key] for key in changed},
            },
        )
    return policy


@transaction.atomic
def policy_delete(*, actor: Membership, policy: Policy) -> None:
    check_capability(actor, Capability.MANAGE_POLICIES)
    if policy.workspace_id != actor.workspace_id:
        raise NotFound(_("No such policy."))
    before = _policy_snapshot(policy)
    audit_record(
        action=AuditAction.POLICY_CHANGED,
        actor=actor,
        workspace=actor.workspace,
        target=policy,
        changes={"before": before, "after": None},
    )
    policy.delete()


def _applies(policy, account: SocialAccount | None) -> bool:
    chosen = {a.pk for a in policy.accounts.all()}
    return not chosen or (account is not None and account.pk in chosen)


def policies_applying(*, workspace: Workspace, account: SocialAccount | None = None):
    """Active policies for a post in `workspace` (as `account`, when one is chosen)."""
    from chorus.governance.selectors import policies_of

    return [p for p in policies_of(workspace).filter(is_active=True) if _applies(p, account)]


class PolicyChecker:
    """`policy_check` for many texts of one workspace (a page of posts waiting for
    approval, say): the active policies are loaded once, in two queries, and each distinct
    text is evaluated once against the policies that apply to it."""

    def __init__(self, workspace: Workspace):
        from chorus.governance.selectors import policies_of

        self.workspace = workspace
        self.policies = list(policies_of(workspace).filter(is_active=True))
        self._seen: dict[tuple, list[Violation]] = {}

    def check(
        self, *, text: str, account: SocialAccount | None = None, links: list[str] | None = None
    ) -> list[Violation]:
        if account is not None and account.workspace_id != self.workspace.pk:
            raise NotFound(_("No such social account."), field="account")
        applying = [p for p in self.policies if _applies(p, account)]
        key = (text, tuple(p.pk for p in applying), tuple(links or ()))
        if key not in self._seen:
            violations = [
                violation
                for policy in applying
                if (violation := evaluate(policy, text, links)) is not None
            ]
            self._seen[key] = sorted(
                violations, key=lambda v: (not v.blocks, v.policy.name.lower())
            )
        return self._seen[key]


def policy_check(
    *,
    workspace: Workspace,
    text: str,
    account: SocialAccount | None = None,
    links: list[str] | None = None,
) -> list[Violation]:
    """Every active policy the text breaks, blocking ones first.

    Policies limited to some social accounts apply only when `account` is one of them;
    `links` are URLs the post carries outside its text (a link card, say).
    """
    return PolicyChecker(workspace).check(text=text, account=account, links=links)


# --------------------------------------------------------------------------- sign-in safety


class Throttled(ServiceError):
    code = "throttled"
    status = 429


def _window() -> timedelta:
    return timedelta(seconds=settings.CHORUS_LOGIN_FAILURE_WINDOW)


def _normalise_email(email: str) -> str:
    return (email or "").strip().lower()[:254]


def login_attempt_begin(*, email: str, ip_address: str) -> int:
    """Admit one sign-in attempt, or refuse it while this email or address failed too often.

    The attempt is written as a failure *before* the password is checked, then the recent
    failures are counted, this one included. Each step commits on its own, so of any number
    of concurrent attempts, the last to count sees every admitted one: at most the limit get
    through, on SQLite and PostgreSQL alike, with no lock held while the password is
    hashed. A refused attempt removes its row (refusals do not extend the lock); a correct
    password forgets the email's failures (`login_succeeded`); a wrong one leaves the row as
    the failure it is. Returns the row's id. The limit lifts by itself once the oldest
    failure leaves the window.
    """
    email = _normalise_email(email)
    now = timezone.now()
    row = LoginFailure.objects.create(email=email, ip_address=ip_address, created_at=now)
    since = now - _window()
    checks = [("email", email, settings.CHORUS_LOGIN_MAX_FAILURES_PER_EMAIL)]
    if ip_address:
        checks.append(("ip_address", ip_address, settings.CHORUS_LOGIN_MAX_FAILURES_PER_IP))
    for column, value, limit in checks:
        if not value:
            continue
        recent = LoginFailure.objects.filter(**{column: value}, created_at__gte=since)
        if recent.count() <= limit:
            continue
        others = recent.exclude(pk=row.pk).order_by("-created_at")
        times = list(others.values_list("created_at", flat=True)[:limit])
        LoginFailure.objects.filter(pk=row.pk).delete()
        wait = max(times[-1] + _window() - timezone.now(), timedelta(seconds=60))
        minutes = -(-int(wait.total_seconds()) // 60)
        raise Throttled(
            ngettext(
                "Too many failed sign-in attempts. Try again in %(minutes)d minute.",
                "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes}
        )
    return row.pk


def login_failure_record(*, email: str, ip_address: str, admitted: bool = False) -> None:
    """A wrong password: audited, and counted unless `login_attempt_begin` already did."""
    email = _normalise_email(email)
    if not admitted:
        LoginFailure.objects.create(email=email, ip_address=ip_address, created_at=timezone.now())
    user = User.objects.filter(email=email).first()
    audit_record(action=AuditAction.LOGIN_FAILED, actor=user or email, workspace=None)


def login_succeeded(*, user: User, session_key: str | None) -> None:
    """Forget the email's failures, record the sign-in and the session it opened."""
    LoginFailure.objects.filter(email=_normalise_email(user.email)).delete()
    audit_record(action=AuditAction.LOGIN, actor=user, workspace=None)
    if session_key:
        session_track(user=user, session_key=session_key)


def login_failures_purge() -> int:
    cutoff = timezone.now() - _window() * 2
    deleted, _rows = LoginFailure.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --------------------------------------------------------------------------- sessions


def session_track(*, user: User, session_key: str) -> None:
    from chorus.governance import context as request_context

    ctx = request_context.current()
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user, "ip_address": ctx.ip_address, "user_agent": ctx.user_agent},
    )


def session_forget(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def sessions_end_for(user: User) -> int:
    """Sign `user` out everywhere: delete every session recorded for them."""
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    ended, _rows = Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    return ended


def logout_recorded(*, user: User | None, session_key: str | None) -> None:
    session_forget(session_key=session_key)
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, actor=user, workspace=None)
