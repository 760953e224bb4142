"""Reads for social accounts, with who-may-use-what applied."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import NotFound
from chorus.networks.models import (
    AccessLevel,
    AccountGrant,
    AccountStatus,
    ServerLimits,
    SocialAccount,
)
from chorus.networks.providers import get_provider
from chorus.networks.providers.base import Limits


def accounts_of(membership: Membership) -> QuerySet[SocialAccount]:
    """Every connected account of the member's workspace (health is visible to all)."""
    return (
        SocialAccount.objects.filter(workspace=membership.workspace)
        .exclude(status=AccountStatus.DISCONNECTED)
        .prefetch_related("allowed_members__user")
        .order_by("provider", "handle")
    )


def accounts_usable_by(membership: Membership) -> QuerySet[SocialAccount]:
    """Accounts this member may post as: admins all, others those granted draft or publish."""
    accounts = accounts_of(membership)
    if role_can(membership.role, Capability.MANAGE_ACCOUNTS):
        return accounts
    return accounts.filter(
        pk__in=AccountGrant.every.filter(membership=membership)
        .filter(Q(publish=True) | Q(draft=True))
        .values("socialaccount_id")
    )


def account_levels(membership: Membership, account: SocialAccount) -> set[str]:
    """The member's levels on the account; admins and owners implicitly have them all."""
    if role_can(membership.role, Capability.MANAGE_ACCOUNTS):
        return set(AccessLevel.values)
    grant = AccountGrant.every.filter(membership=membership, socialaccount=account).first()
    return grant.levels if grant else set()


def draft_only_accounts(membership: Membership, account_ids) -> set[int]:
    """Of these accounts, those the member may draft for but not publish to directly."""
    if role_can(membership.role, Capability.MANAGE_ACCOUNTS):
        return set()
    return set(
        AccountGrant.every.filter(
            membership=membership, socialaccount_id__in=list(account_ids), publish=False
        ).values_list("socialaccount_id", flat=True)
    )


def account_grants(account: SocialAccount) -> dict[int, set[str]]:
    """{membership id: levels} of the members granted something on the account (from
    `prefetch_related("grants")` when a list of accounts loaded them)."""
    grants = getattr(account, "_prefetched_objects_cache", {}).get("grants")
    if grants is None:
        grants = AccountGrant.every.filter(socialaccount=account)
    return {g.membership_id: g.levels for g in grants}


def access_account(*, membership: Membership, account_id: int) -> SocialAccount:
    account = accounts_of(membership).filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("No such social account."))
    return account


def account_limits(account: SocialAccount) -> Limits:
    """What the account's own server accepts: its published limits where Chorus has read
    them (`services.server_limits_refresh`), else the network's documented defaults."""
    base = get_provider(account.provider).limits
    if hasattr(account, "_server_limits"):  # loaded with a page's other accounts
        values = account._server_limits
    else:
        values = (
            ServerLimits.objects.filter(provider=account.provider, server=account.server)
            .values_list("values", flat=True)
            .first()
        )
    return base.with_server_values(values) if values else base


def load_server_limits(accounts: Iterable[SocialAccount]) -> None:
    """Read the stored limits of all these accounts' servers in one query, so that
    `account_limits` asks nothing more for them (a page showing many posts' previews)."""
    accounts = list(accounts)
    servers = {a.server for a in accounts}
    rows = ServerLimits.objects.filter(server__in=servers).values_list(
        "provider", "server", "values"
    )
    found = {(provider, server): values for provider, server, values in rows}
    for account in accounts:
        account._server_limits = found.get((account.provider, account.server))


def server_limits_row(account: SocialAccount) -> ServerLimits | None:
    """The stored limits of the account's server (when it was read, any error), or None."""
    if not get_provider(account.provider).limits_per_server:
        return None
    return ServerLimits.objects.filter(provider=account.provider, server=account.server).first()


def accounts_needing_attention(membership: Membership) -> list[SocialAccount]:
    """Connected accounts to reconnect, or whose latest call to the network failed."""
    failing = Q(last_error_at__isnull=False) & (
        Q(last_ok_at__isnull=True) | Q(last_ok_at__lt=F("last_error_at"))
    )
    return list(
        SocialAccount.objects.filter(workspace=membership.workspace)
        .exclude(status=AccountStatus.DISCONNECTED)
        .filter(Q(status=AccountStatus.NEEDS_RECONNECT) | failing)
        .order_by("provider", "handle")
    )
