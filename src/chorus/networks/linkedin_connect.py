"""Choosing who a LinkedIn sign-in posts as: the member, and the organization pages they
administer. After the OAuth flow connects the member (`services.oauth_complete`), the person
picks; each author picked becomes its own SocialAccount acting with the same sign-in
(`identity["author"]`), saved the way every connect saves (`services._save_account`), and an
author unpicked that this workspace had connected is disconnected.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import NotFound
from chorus.networks import http
from chorus.networks.models import AccountStatus, SocialAccount
from chorus.networks.providers import linkedin_oauth
from chorus.networks.providers.base import Credentials, ProviderError
from chorus.networks.providers.linkedin import LinkedIn
from chorus.networks.services import ConnectFailed, _save_account, account_disconnect


@dataclass(frozen=True)
class AuthorRow:
    """One author offered on the choice page, and whether this workspace posts as it now."""

    author: linkedin_oauth.Author
    connected: bool


def _signed_in(actor: Membership, account_id: int) -> SocialAccount:
    check_capability(actor, Capability.MANAGE_ACCOUNTS)
    account = SocialAccount.objects.filter(
        pk=account_id, workspace=actor.workspace, provider=LinkedIn.key
    ).first()
    if account is None or account.status != AccountStatus.ACTIVE:
        raise NotFound(_("No such social account."))
    return account


def _connected(actor: Membership) -> dict[str, SocialAccount]:
    accounts = SocialAccount.objects.filter(
        workspace=actor.workspace, provider=LinkedIn.key, status=AccountStatus.ACTIVE
    )
    return {account.remote_id: account for account in accounts}


def _authors(account: SocialAccount, client) -> list[linkedin_oauth.Author]:
    credentials = Credentials(identity=dict(account.identity), secrets=account.secrets)
    try:
        return linkedin_oauth.authors(client, credentials)
    except ProviderError as exc:
        raise ConnectFailed(exc.message) from exc


def linkedin_authors(*, actor: Membership, account_id: int) -> list[AuthorRow]:
    """Who the LinkedIn sign-in of `account_id` may post as: the member first."""
    account = _signed_in(actor, account_id)
    connected = _connected(actor)
    with http.client() as client:
        authors = _authors(account, client)
    return [AuthorRow(author, author.urn in connected) for author in authors]


def linkedin_choose(
    *, actor: Membership, account_id: int, chosen: list[str]
) -> list[SocialAccount]:
    """Post as each author chosen (URNs) and stop posting as those unchosen."""
    account = _signed_in(actor, account_id)
    if not chosen:
        raise ConnectFailed(_("Choose at least one member or page."), field="chosen")
    saved = []
    with http.client() as client:
        available = {author.urn: author for author in _authors(account, client)}
        if any(urn not in available for urn in chosen):
            raise ConnectFailed(
                _("This LinkedIn member may no longer post as some of those chosen; start again.")
            )
        for urn in dict.fromkeys(chosen):
            author = available[urn]
            try:
                saved.append(_save_account(actor, LinkedIn(author.credentials, http=client)))
            except ProviderError as exc:
                raise ConnectFailed(f"{author.name}: {exc.message}") from exc
    for urn, connected in _connected(actor).items():
        if urn in available and urn not in chosen:
            account_disconnect(actor=actor, account=connected)
    return saved
