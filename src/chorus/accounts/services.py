"""Writes for users, workspaces, teams, invitations and API tokens.

Every rule about who may do what to a workspace lives here, so the web views,
the REST API and background tasks all enforce the same thing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chorus.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Notification,
    Team,
    User,
    Workspace,
    hash_secret,
)
from chorus.accounts.roles import Capability, Role, role_can, roles_assignable_by
from chorus.accounts.scopes import Scope
from chorus.core import timezones
from chorus.core.errors import Conflict, NotAllowed, NotFound, ServiceError
from chorus.core.site import absolute_url
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction

INVITATION_SALT = "chorus.invitation"
TOKEN_PREFIX = "chorus_"


def check_capability(membership: Membership, capability: Capability) -> None:
    if not role_can(membership.role, capability):
        raise NotAllowed(_("Your role does not allow this."))


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="password") from exc


def _check_timezone(name: str) -> None:
    if name and not timezones.is_valid(name):
        raise ServiceError(_("Unknown time zone: %(name)s") % {"name": name}, field="timezone")


# --------------------------------------------------------------------------- users


@transaction.atomic
def user_sign_up(
    *,
    email: str,
    password: str,
    workspace_name: str,
    full_name: str = "",
    language: str = "en",
    workspace_timezone: str = "UTC",
) -> User:
    """A new person gets an account and a first workspace they own."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise Conflict(_("An account with this email already exists."), field="email")
    candidate = User(email=email, full_name=full_name)
    _check_password(password, candidate)
    user = User.objects.create_user(email, password, full_name=full_name, language=language)
    workspace_create(name=workspace_name, owner=user, workspace_timezone=workspace_timezone)
    return user


def user_update_preferences(*, user: User, full_name: str, language: str, tz: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise ServiceError(_("Unsupported language."), field="language")
    _check_timezone(tz)
    user.full_name, user.language, user.timezone = full_name, language, tz
    user.save(update_fields=["full_name", "language", "timezone"])
    return user


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Lock someone out: no sign-in, every API token revoked, every session ended."""
    from chorus.governance.services import sessions_end_for

    user.is_active = False
    user.save(update_fields=["is_active"])
    ApiToken.objects.filter(user=user, revoked_at=None).update(revoked_at=timezone.now())
    sessions_end_for(user)
    return user


# --------------------------------------------------------------------------- workspaces


@transaction.atomic
def workspace_create(*, name: str, owner: User, workspace_timezone: str = "UTC") -> Workspace:
    name = name.strip()
    if not name:
        raise ServiceError(_("A workspace needs a name."), field="name")
    _check_timezone(workspace_timezone)
    workspace = Workspace.objects.create(name=name, timezone=workspace_timezone or "UTC")
    Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)
    audit_record(
        action=AuditAction.WORKSPACE_CHANGED,
        actor=owner,
        workspace=workspace,
        target=workspace,
        changes={"before": None, "after": {"name": workspace.name, "timezone": workspace.timezone}},
    )
    return workspace


@transaction.atomic
def workspace_update(*, membership: Membership, name: str, workspace_timezone: str) -> Workspace:
    check_capability(membership, Capability.MANAGE_WORKSPACE)
    if not name.strip():
        raise ServiceError(_("A workspace needs a name."), field="name")
    _check_timezone(workspace_timezone)
    workspace = membership.workspace
    before = {"name": workspace.name, "timezone": workspace.timezone}
    workspace.name, workspace.timezone = name.strip(), workspace_timezone
    workspace.save(update_fields=["name", "timezone"])
    after = {"name": workspace.name, "timezone": workspace.timezone}
    if after != before:
        audit_record(
            action=AuditAction.WORKSPACE_CHANGED,
            actor=membership,
            workspace=workspace,
            target=workspace,
            changes={"before": before, "after": after},
        )
    return workspace


# --------------------------------------------------------------------------- members


def _check_can_assign(actor: Membership, role: str) -> None:
    if Role(role) not in roles_assignable_by(actor.role):
        raise NotAllowed(_("Your role cannot give the role %(role)s.") % {"role": role})


def _owners_left_after(membership: Membership) -> int:
    return (
        Membership.objects.filter(workspace=membership.workspace, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .count()
    )


def _member_target(membership: Membership) -> tuple[str, int, str]:
    return ("accounts.membership", membership.pk, membership.user.email)


@transaction.atomic
def membership_change_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
    check_capability(actor, Capability.MANAGE_MEMBERS)
    if role not in Role.values:
        raise ServiceError(_("Unknown role."), field="role")
    if membership.workspace_id != actor.workspace_id:
        raise NotFound(_("No such member."))
    _check_can_assign(actor, role)
    if membership.role == Role.OWNER:
        _check_can_assign(actor, Role.OWNER)
        if role != Role.OWNER and _owners_left_after(membership) == 0:
            raise ServiceError(_("A workspace needs at least one owner."), field="role")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if before != role:
        audit_record(
            action=AuditAction.ROLE_CHANGED,
            actor=actor,
            workspace=actor.workspace,
            target=_member_target(membership),
            changes={"before": {"role": before}, "after": {"role": role}},
        )
    return membership


@transaction.atomic
def membership_remove(*, actor: Membership, membership: Membership) -> None:
    if membership.pk != actor.pk:
        check_capability(actor, Capability.MANAGE_MEMBERS)
    if membership.workspace_id != actor.workspace_id:
        raise NotFound(_("No such member."))
    if membership.role == Role.OWNER:
        if actor.role != Role.OWNER:
            raise NotAllowed(_("Only an owner can remove an owner."))
        if _owners_left_after(membership) == 0:
            raise ServiceError(_("A workspace needs at least one owner."))
    ApiToken.objects.filter(user=membership.user, workspace=membership.workspace).update(
        revoked_at=timezone.now()
    )
    audit_record(
        action=AuditAction.MEMBER_REMOVED,
        actor=actor,
        workspace=actor.workspace,
        target=_member_target(membership),
        changes={"before": {"role": membership.role}, "after": None},
    )
    user = membership.user
    membership.delete()
    if not Membership.objects.filter(user=user).exists():
        from chorus.governance.services import sessions_end_for

        sessions_end_for(user)


# --------------------------------------------------------------------------- teams


def team_create(*, actor: Membership, name: str) -> Team:
    check_capability(actor, Capability.MANAGE_TEAMS)
    name = name.strip()
    if not name:
        raise ServiceError(_("A team needs a name."), field="name")
    try:
        with transaction.atomic():
            team = Team.objects.create(workspace=actor.workspace, name=name)
            audit_record(
                action=AuditAction.TEAM_CHANGED,
                actor=actor,
                workspace=actor.workspace,
                target=team,
                changes={"before": None, "after": {"name": team.name, "members": []}},
            )
            return team
    except IntegrityError as exc:
        raise Conflict(_("A team with this name already exists."), field="name") from exc


def _team_emails(team: Team) -> list[str]:
    return sorted(team.members.values_list("user__email", flat=True))


def team_set_members(*, actor: Membership, team: Team, memberships: list[Membership]) -> Team:
    check_capability(actor, Capability.MANAGE_TEAMS)
    if team.workspace_id != actor.workspace_id or any(
        m.workspace_id != actor.workspace_id for m in memberships
    ):
        raise NotFound(_("No such team or member."))
    with transaction.atomic():
        before = _team_emails(team)
        team.members.set(memberships)
        after = _team_emails(team)
        if after != before:
            audit_record(
                action=AuditAction.TEAM_CHANGED,
                actor=actor,
                workspace=actor.workspace,
                target=team,
                changes={"before": {"members": before}, "after": {"members": after}},
            )
    return team


def team_delete(*, actor: Membership, team: Team) -> None:
    check_capability(actor, Capability.MANAGE_TEAMS)
    if team.workspace_id != actor.workspace_id:
        raise NotFound(_("No such team."))
    with transaction.atomic():
        audit_record(
            action=AuditAction.TEAM_CHANGED,
            actor=actor,
            workspace=actor.workspace,
            target=team,
            changes={"before": {"name": team.name, "members": _team_emails(team)}, "after": None},
        )
        team.delete()


# --------------------------------------------------------------------------- invitations


def invitation_url(invitation: Invitation) -> str:
    token = signing.dumps(invitation.pk, salt=INVITATION_SALT)
    return absolute_url(f"/invitations/{token}/")


@transaction.atomic
def invitation_create(
    *, actor: Membership, email: str, role: str, teams: list[Team] | None = None
) -> Invitation:
    """Invite someone by email; the email is sent by a task once this commits."""
    from chorus.accounts.tasks import send_invitation_email

    check_capability(actor, Capability.MANAGE_MEMBERS)
    if role not in Role.values:
        raise ServiceError(_("Unknown role."), field="role")
    _check_can_assign(actor, role)
    email = email.strip().lower()
    workspace = actor.workspace
    if Membership.objects.filter(workspace=workspace, user__email=email).exists():
        raise Conflict(_("%(email)s is already a member.") % {"email": email}, field="email")
    Invitation.objects.filter(
        workspace=workspace, email=email, accepted_at=None, revoked_at=None
    ).update(revoked_at=timezone.now())
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email,
        role=role,
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(seconds=settings.INVITATION_MAX_AGE),
    )
    if teams:
        if any(team.workspace_id != workspace.pk for team in teams):
            raise NotFound(_("No such team."), field="teams")
        invitation.teams.set(teams)
    audit_record(
        action=AuditAction.INVITATION_SENT,
        actor=actor,
        workspace=workspace,
        target=invitation,
        changes={
            "before": None,
            "after": {
                "email": email,
                "role": role,
                "teams": sorted(team.name for team in teams or []),
            },
        },
    )
    transaction.on_commit(lambda: send_invitation_email(invitation.pk))
    return invitation


def invitation_from_token(token: str) -> Invitation:
    try:
        pk = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE)
    except signing.BadSignature as exc:
        raise NotFound(_("This invitation link is invalid or has expired.")) from exc
    invitation = Invitation.objects.select_related("workspace").filter(pk=pk).first()
    if invitation is None or not invitation.is_open:
        raise NotFound(_("This invitation link is invalid, used or has expired."))
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise NotFound(_("This invitation link is invalid, used or has expired."))
    if user.email.lower() != invitation.email:
        raise NotAllowed(
            _("This invitation is for %(email)s; sign in with that address.")
            % {"email": invitation.email}
        )
    membership, created = Membership.objects.get_or_create(
        user=user, workspace=invitation.workspace, defaults={"role": invitation.role}
    )
    if created:
        for team in invitation.teams.all():
            team.members.add(membership)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(
        action=AuditAction.INVITATION_ACCEPTED,
        actor=user,
        workspace=invitation.workspace,
        target=invitation,
        changes={"before": None, "after": {"role": membership.role}},
    )
    return membership


@transaction.atomic
def invitation_sign_up(
    *, invitation: Invitation, password: str, full_name: str = "", language: str = "en"
) -> User:
    """Someone new accepts: their account is created for the invited address."""
    if User.objects.filter(email=invitation.email).exists():
        raise Conflict(_("An account with this email exists: sign in to accept."))
    _check_password(password, User(email=invitation.email, full_name=full_name))
    user = User.objects.create_user(
        invitation.email, password, full_name=full_name, language=language
    )
    invitation_accept(invitation=invitation, user=user)
    return user


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> None:
    check_capability(actor, Capability.MANAGE_MEMBERS)
    if invitation.workspace_id != actor.workspace_id:
        raise NotFound(_("No such invitation."))
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        action=AuditAction.INVITATION_REVOKED,
        actor=actor,
        workspace=actor.workspace,
        target=invitation,
        changes={"before": {"email": invitation.email, "role": invitation.role}, "after": None},
    )


# --------------------------------------------------------------------------- API tokens


@transaction.atomic
def api_token_create(
    *,
    membership: Membership,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    via: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """Returns the token row and the raw secret, which is shown once and never stored.

    `via` is the token the request came with, if any: a token can only hand out what it
    holds, so the new one carries a subset of its scopes and expires no later than it.
    """
    if not name.strip():
        raise ServiceError(_("A token needs a name."), field="name")
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown or not scopes:
        raise ServiceError(
            _("Choose scopes among: %(scopes)s") % {"scopes": ", ".join(Scope.values)},
            field="scopes",
        )
    if expires_at and expires_at <= timezone.now():
        raise ServiceError(_("The expiry date must be in the future."), field="expires_at")
    if via is not None:
        _check_within(via, scopes=scopes, expires_at=expires_at)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=membership.user,
        workspace=membership.workspace,
        name=name.strip(),
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_secret(raw),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    audit_record(
        action=AuditAction.API_TOKEN_CREATED,
        actor=membership,
        workspace=membership.workspace,
        target=token,
        changes={
            "before": None,
            "after": {"name": token.name, "scopes": token.scopes, "expires_at": expires_at},
        },
    )
    return token, raw


def _check_within(via: ApiToken, *, scopes: list[str], expires_at: datetime | None) -> None:
    beyond = sorted(set(scopes) - set(via.scopes))
    if beyond:
        raise NotAllowed(
            _("A token can only create tokens with its own scopes; this one lacks: %(scopes)s")
            % {"scopes": ", ".join(beyond)},
            field="scopes",
        )
    if via.expires_at and (expires_at is None or expires_at > via.expires_at):
        raise NotAllowed(
            _("A token created with this token must expire by %(date)s, as this one does.")
            % {"date": via.expires_at.isoformat()},
            field="expires_at",
        )


def api_tokens_revoke_all(*, user: User) -> int:
    """After a password change or reset: every API token of the user stops working."""
    now = timezone.now()
    revoked = 0
    for token in ApiToken.objects.filter(user=user, revoked_at=None).select_related("workspace"):
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit_record(
            action=AuditAction.API_TOKEN_REVOKED,
            actor=user,
            workspace=token.workspace,
            target=token,
            changes={
                "before": {"name": token.name, "owner": user.email},
                "after": None,
                "reason": "password changed",
            },
        )
        revoked += 1
    return revoked


@transaction.atomic
def api_token_revoke(*, membership: Membership, token: ApiToken) -> None:
    """Members revoke their own tokens; admins may revoke anyone's in their workspace."""
    if token.workspace_id != membership.workspace_id:
        raise NotFound(_("No such token."))
    if token.user_id != membership.user_id:
        check_capability(membership, Capability.MANAGE_MEMBERS)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        action=AuditAction.API_TOKEN_REVOKED,
        actor=membership,
        workspace=membership.workspace,
        target=token,
        changes={"before": {"name": token.name, "owner": token.user.email}, "after": None},
    )


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token for this secret, with its member still in the workspace."""
    token = (
        ApiToken.objects.select_related("user", "workspace")
        .filter(token_hash=hash_secret(raw), revoked_at=None, user__is_active=True)
        .first()
    )
    if token is None or not token.is_active:
        return None
    if not Membership.objects.filter(user=token.user, workspace=token.workspace).exists():
        return None
    now = timezone.now()
    if not token.last_used_at or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def invitations_purge(*, older_than_days: int) -> int:
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _rows = Invitation.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


# --------------------------------------------------------------------------- notifications


def notify(
    *,
    user: User,
    workspace: Workspace,
    message: str | Callable[[], str],
    url: str = "",
    email: bool = True,
) -> Notification:
    """Tell someone in the app and, unless `email` is false, by email once this commits.

    Pass `message` as a callable (`lambda: _("…") % {…}`) to have it written in the
    recipient's language rather than the language of whoever caused it.
    """
    from chorus.accounts.tasks import send_notification_email

    if callable(message):
        with translation.override(user.language or settings.LANGUAGE_CODE):
            message = message()
    notification = Notification.objects.create(
        user=user, workspace=workspace, message=message, url=url
    )
    if email:
        transaction.on_commit(lambda: send_notification_email(notification.pk))
    return notification


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at=None)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
