"""Reads for social accounts, with who-may-use-what applied."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import NotFound
from chorus.networks.models import AccountStatus, SocialAccount


def accounts_of(membership: Membership) -> QuerySet[SocialAccount]:
    """Every connected account of the member's workspace (health is visible to all)."""
    return (
        SocialAccount.objects.filter(workspace=membership.workspace)
        .exclude(status=AccountStatus.DISCONNECTED)
        .prefetch_related("allowed_members__user")
        .order_by("provider", "handle")
    )


def accounts_usable_by(membership: Membership) -> QuerySet[SocialAccount]:
    """Accounts this member may post and reply as: admins all, others those granted."""
    accounts = accounts_of(membership)
    if role_can(membership.role, Capability.MANAGE_ACCOUNTS):
        return accounts
    return accounts.filter(allowed_members=membership)


def access_account(*, membership: Membership, account_id: int) -> SocialAccount:
    account = accounts_of(membership).filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("No such social account."))
    return account
