"""Connecting Facebook Pages and Instagram accounts: one Facebook login, then the user
picks which of the Pages they manage (and the Instagram accounts linked to them) this
workspace uses. Each one picked becomes its own SocialAccount, saved the way every
connect saves (`services._save_account`: checked with the network, audited, one row).

Between the login and the choice, the long-lived user token is kept only in the user's
session, encrypted and signed, for fifteen minutes; the Page tokens are read again with it
when the choice is made, so nothing is stored for Pages nobody picked.
"""

from __future__ import annotations

import secrets

from django.core import signing
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core import crypto
from chorus.core.site import absolute_url
from chorus.networks import http
from chorus.networks.models import SocialAccount
from chorus.networks.providers import get_provider
from chorus.networks.providers.base import ProviderError
from chorus.networks.providers.facebook import Facebook
from chorus.networks.providers.meta_graph import (
    AccountChoice,
    exchange_code_for_user_token,
    managed_accounts,
)
from chorus.networks.services import ConnectFailed, _save_account

STATE_SALT = "chorus.networks.meta-connect"
CHOICE_SALT = "chorus.networks.meta-choice"
MAX_AGE = 15 * 60
CALLBACK_PATH = "/social-accounts/meta/callback/"


def needs_setup() -> bool:
    """Whether the installer still has to create the Meta app (docs/networks/facebook.md)."""
    return not Facebook.is_configured()


def meta_begin(*, actor: Membership) -> str:
    """Where to send the browser: Facebook's login dialog, with a state tied to this user."""
    check_capability(actor, Capability.MANAGE_ACCOUNTS)
    if needs_setup():
        raise ConnectFailed(
            _(
                "Facebook and Instagram need setup: the server's administrator sets "
                "CHORUS_META_APP_ID and CHORUS_META_APP_SECRET (see the guide)."
            )
        )
    with http.client() as client:
        app = Facebook.register_app("", redirect_uri=absolute_url(CALLBACK_PATH), http=client)
    state = signing.dumps(
        {"w": actor.workspace_id, "u": actor.user_id, "n": secrets.token_urlsafe(8)},
        salt=STATE_SALT,
    )
    return Facebook.authorization_url(app, state=state)


def meta_complete(*, actor: Membership, state: str, code: str) -> str:
    """Trade the code for a long-lived user token; returns it sealed for the session."""
    check_capability(actor, Capability.MANAGE_ACCOUNTS)
    try:
        payload = signing.loads(state, salt=STATE_SALT, max_age=MAX_AGE)
    except signing.BadSignature as exc:
        raise ConnectFailed(_("This connection attempt expired; start again.")) from exc
    if payload.get("u") != actor.user_id or payload.get("w") != actor.workspace_id:
        raise ConnectFailed(_("This connection was started by someone else or elsewhere."))
    if not code:
        raise ConnectFailed(_("The network did not grant access."))
    with http.client() as client:
        try:
            app = Facebook.register_app("", redirect_uri=absolute_url(CALLBACK_PATH), http=client)
            token = exchange_code_for_user_token(app, code, http=client)
        except ProviderError as exc:
            raise ConnectFailed(exc.message) from exc
    return _seal(actor, token)


def _seal(actor: Membership, token: str) -> str:
    data = {"w": actor.workspace_id, "u": actor.user_id, "t": crypto.encrypt(token)}
    return signing.dumps(data, salt=CHOICE_SALT)


def _unseal(actor: Membership, sealed: str) -> str:
    try:
        data = signing.loads(sealed or "", salt=CHOICE_SALT, max_age=MAX_AGE)
    except signing.BadSignature as exc:
        raise ConnectFailed(_("This connection attempt expired; start again.")) from exc
    if data.get("u") != actor.user_id or data.get("w") != actor.workspace_id:
        raise ConnectFailed(_("This connection was started by someone else or elsewhere."))
    return crypto.decrypt(data["t"])


def meta_choices(*, actor: Membership, sealed: str) -> list[AccountChoice]:
    """The Pages and Instagram accounts the signed-in Facebook user manages."""
    check_capability(actor, Capability.MANAGE_ACCOUNTS)
    token = _unseal(actor, sealed)
    with http.client() as client:
        try:
            return managed_accounts(token, http=client)
        except ProviderError as exc:
            raise ConnectFailed(exc.message) from exc


def choice_key(choice: AccountChoice) -> str:
    return f"{choice.provider}:{choice.remote_id}"


def meta_connect_chosen(
    *, actor: Membership, sealed: str, chosen: list[str]
) -> list[SocialAccount]:
    """Connect each chosen Page or Instagram account (`provider:remote_id`), each checked
    with the network as it is saved; the first that fails stops it, named in the message."""
    if not chosen:
        raise ConnectFailed(_("Choose at least one Page or Instagram account."), field="chosen")
    available = {choice_key(c): c for c in meta_choices(actor=actor, sealed=sealed)}
    missing = [key for key in chosen if key not in available]
    if missing:
        raise ConnectFailed(
            _("This Facebook user no longer manages some of the accounts chosen; start again.")
        )
    connected = []
    with http.client() as client:
        for key in dict.fromkeys(chosen):
            choice = available[key]
            provider = get_provider(choice.provider)(choice.credentials, http=client)
            try:
                connected.append(_save_account(actor, provider))
            except ProviderError as exc:
                raise ConnectFailed(f"{choice.name}: {exc.message}") from exc
    return connected
