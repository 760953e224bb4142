"""Connecting, checking and disconnecting social accounts; using them safely.

An account row is written only after the network has confirmed the credentials, inside
one transaction, so a failed connect leaves nothing half-connected. Every later call to a
network goes through `provider_for`, which records the account's health (last success,
last error, rate-limit budget) and persists refreshed tokens.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core import crypto
from chorus.core.errors import NotFound, ServiceError
from chorus.core.site import absolute_url
from chorus.governance.audit import audit_record
from chorus.governance.models import AuditAction
from chorus.networks import http
from chorus.networks.models import (
    AccessLevel,
    AccountGrant,
    AccountStatus,
    OAuthClient,
    ServerLimits,
    SocialAccount,
)
from chorus.networks.providers import (
    PROVIDERS,
    OAuthSignIn,
    PasswordSignIn,
    Provider,
    get_provider,
)
from chorus.networks.providers.base import (
    AuthExpired,
    Credentials,
    OAuthApp,
    ProviderError,
)
from chorus.networks.signals import account_connected

OAUTH_STATE_SALT = "chorus.networks.oauth"
OAUTH_STATE_MAX_AGE = 15 * 60


class ConnectFailed(ServiceError):
    """The network refused or could not be reached; its reason is in the message."""

    code = "connect_failed"
    status = 400


def _provider_class(key: str, kind: type) -> type[Provider]:
    try:
        provider = get_provider(key)
    except KeyError as exc:
        raise NotFound(_("Unknown network."), field="provider") from exc
    if not issubclass(provider, kind):
        raise ServiceError(_("This network connects differently."), field="provider")
    return provider


def _options(provider_key: str, service_url: str = "") -> dict[str, str]:
    """Connect options from settings.CHORUS_NETWORK_OPTIONS, without empty values.

    An account on the sandbox network finds its identity in the sandbox's own directory.
    """
    options = settings.CHORUS_NETWORK_OPTIONS.get(provider_key, {})
    found = {name: value for name, value in options.items() if value}
    on_sandbox = bool(service_url) and is_sandbox_server(urlsplit(service_url).netloc)
    if provider_key == "bluesky" and on_sandbox:
        found["plc_url"] = settings.CHORUS_SANDBOX_URL
    return found


def missing_setup(provider: type[Provider]) -> list[str]:
    """The environment variables this installation must set before the network connects
    (its `app_settings` not found in settings.CHORUS_NETWORK_OPTIONS)."""
    return provider.missing_settings(settings.CHORUS_NETWORK_OPTIONS.get(provider.key, {}))


def read_guide(relative_path: str) -> str:
    """The text of a guide under docs/ of this installation's source, or "" when the
    installation carries no docs (installed as a package)."""
    root = (settings.BASE_DIR.parent.parent / "docs").resolve()
    path = (settings.BASE_DIR.parent.parent / relative_path).resolve()
    if not path.is_relative_to(root) or path.suffix != ".md" or not path.is_file():
        return ""
    return path.read_text(encoding="utf-8")


def _require_setup(provider: type[Provider]) -> None:
    missing = missing_setup(provider)
    if missing:
        raise ServiceError(
            _(
                "%(network)s is not set up on this installation yet: an administrator must "
                "set %(settings)s (see %(guide)s) and restart Chorus."
            )
            % {
                "network": provider.name,
                "settings": ", ".join(missing),
                "guide": provider.setup_guide or "docs/networks.md",
            },
            field="provider",
        )


def is_sandbox_server(server: str) -> bool:
    """Whether `server` (host:port, as `Provider.server_of` gives it) is the sandbox network."""
    sandbox = urlsplit(settings.CHORUS_SANDBOX_URL).netloc if settings.CHORUS_SANDBOX_URL else ""
    return bool(sandbox) and server.lower() == sandbox.lower()


def oauth_redirect_uri() -> str:
    return absolute_url("/social-accounts/oauth/callback/")


# --------------------------------------------------------------------------- connect


def account_connect_with_password(
    *,
    actor: Membership,
    provider_key: str,
    identifier: str,
    password: str,
    service_url: str = "",
    choices: dict[str, str] | None = None,
) -> SocialAccount:
    """Networks such as Bluesky: handle and app password, checked before anything is saved.
    `choices` are the network's own connect options (Telegram: silent posts)."""
    check_capability(actor, Capability.MANAGE_ACCOUNTS)
    provider = _provider_class(provider_key, PasswordSignIn)
    _require_setup(provider)
    if not identifier.strip() or not password:
        raise ServiceError(_("Enter the handle and the app password."), field="identifier")
    picked = {
        name: str(value)
        for name, value in (choices or {}).items()
        if name in provider.connect_options and value not in (None, "")
    }
    with http.client() as client:
        try:
            credentials = provider.sign_in(
                identifier.strip().lstrip("@"),
                password,
                service_url=service_url.strip(),
                http=client,
                **{**picked, **_options(provider.key, service_url.strip())},
            )
            return _save_account(actor, provider(credentials, http=client))
        except ProviderError as exc:
            raise ConnectFailed(exc.message) from exc


def oauth_begin(*, actor: Membership, provider_key: str, server_url: str = "") -> str:
    """Register Chorus on the server if needed; return where to send the user's browser."""
    check_capability(actor, Capability.MANAGE_ACCOUNTS)
    provider = _provider_class(provider_key, OAuthSignIn)
    _require_setup(provider)
    if provider.asks_server and not server_url.strip():
        raise ServiceError(_("Enter the server your account is on."), field="server_url")
    with http.client() as client:
        try:
            oauth_client = _oauth_client(provider, server_url, client)
            app = _app(oauth_client) if oauth_client else _unregistered_app(provider, client)
            flow = provider.prepare_flow(
                app, server_url.strip(), http=client, **_options(provider.key, server_url)
            )
            state = signing.dumps(
                {
                    "client": oauth_client.pk if oauth_client else None,
                    "provider": provider.key,
                    "flow": crypto.encrypt(json.dumps(flow)) if flow else "",
                    "workspace": actor.workspace_id,
                    "user": actor.user_id,
                    "nonce": secrets.token_urlsafe(16),
                },
                salt=OAUTH_STATE_SALT,
            )
            return provider.begin_authorization(app, state=state, flow=flow, http=client)
        except ProviderError as exc:
            raise ConnectFailed(exc.message, field="server_url") from exc


def _unregistered_app(provider, client) -> OAuthApp:
    """Networks that need no registration (`registers_per_server = False`): Bluesky."""
    return provider.register_app("", redirect_uri=oauth_redirect_uri(), http=client)


def _oauth_client(provider: type[Provider], server_url: str, client) -> OAuthClient | None:
    if not provider.registers_per_server:
        return None
    redirect_uri = oauth_redirect_uri()
    server = provider.normalize_server_url(server_url)
    existing = OAuthClient.objects.filter(
        provider=provider.key, server_url=server, redirect_uri=redirect_uri
    ).first()
    if existing and not provider.app_settings:
        return existing
    if provider.app_settings:  # one app per installation, from settings: keep it current
        app = provider.register_app(
            server, redirect_uri=redirect_uri, http=client, **_options(provider.key)
        )
    else:
        app = provider.register_app(server, redirect_uri=redirect_uri, http=client)
    oauth_client = existing or OAuthClient(
        provider=provider.key,
        server_url=app.server_url,
        redirect_uri=redirect_uri,
        client_id=app.client_id,
        scopes=app.scopes,
    )
    oauth_client.client_id, oauth_client.scopes = app.client_id, app.scopes
    oauth_client.client_secret = app.client_secret
    oauth_client.save()
    return oauth_client


def _app(oauth_client: OAuthClient) -> OAuthApp:
    return OAuthApp(
        server_url=oauth_client.server_url,
        client_id=oauth_client.client_id,
        client_secret=oauth_client.client_secret,
        redirect_uri=oauth_client.redirect_uri,
        scopes=oauth_client.scopes,
    )


def oauth_complete(*, actor: Membership, state: str, code: str, issuer: str = "") -> SocialAccount:
    """The server sent the browser back: check the state, trade the code, save the account.
    `issuer` is the callback's `iss` parameter, for flows that check it (Bluesky)."""
    try:
        payload = signing.loads(state, salt=OAUTH_STATE_SALT, max_age=OAUTH_STATE_MAX_AGE)
    except signing.BadSignature as exc:
        raise ConnectFailed(_("This connection attempt expired; start again.")) from exc
    if payload["user"] != actor.user_id or payload["workspace"] != actor.workspace_id:
        raise ConnectFailed(_("This connection was started by someone else or elsewhere."))
    check_capability(actor, Capability.MANAGE_ACCOUNTS)
    oauth_client = OAuthClient.objects.filter(pk=payload["client"]).first()
    provider = PROVIDERS.get(oauth_client.provider if oauth_client else payload.get("provider"))
    if (
        not code
        or provider is None
        or not issubclass(provider, OAuthSignIn)
        or (oauth_client is None and provider.registers_per_server)
    ):
        raise ConnectFailed(_("The network did not grant access."))
    flow = json.loads(crypto.decrypt(payload["flow"])) if payload.get("flow") else {}
    with http.client() as client:
        try:
            app = _app(oauth_client) if oauth_client else _unregistered_app(provider, client)
            credentials = provider.complete_authorization(
                app, code, flow=flow, issuer=issuer, http=client, **_options(provider.key)
            )
            return _save_account(actor, provider(credentials, http=client))
        except ProviderError as exc:
            raise ConnectFailed(exc.message) from exc


@transaction.atomic
def _save_account(actor: Membership, provider: Provider) -> SocialAccount:
    identity = provider.verify()
    account, _created = SocialAccount.objects.select_for_update().get_or_create(
        workspace=actor.workspace,
        provider=provider.key,
        remote_id=identity.remote_id,
        defaults={"handle": identity.handle, "connected_by": actor.user},
    )
    account.handle = identity.handle
    account.display_name = identity.display_name
    account.avatar_url = identity.avatar_url[:1000]
    account.profile_url = identity.profile_url[:1000]
    account.identity = provider.credentials.identity
    account.sandbox = is_sandbox_server(provider.server_of(account.identity))
    account.secrets = provider.credentials.secrets
    account.status = AccountStatus.ACTIVE
    account.connected_by = actor.user
    account.last_error = ""
    account.last_error_at = None
    _record_success(account, provider)
    account.save()
    audit_record(
        action=AuditAction.ACCOUNT_CONNECTED,
        actor=actor,
        workspace=actor.workspace,
        target=account,
        changes={"before": None, "after": {"provider": account.provider, "handle": account.handle}},
    )
    transaction.on_commit(lambda: account_connected.send(SocialAccount, account=account))
    transaction.on_commit(lambda: _read_server_limits(account))
    return account


def _read_server_limits(account: SocialAccount) -> None:
    """A newly connected account's server limits, read in the background."""
    from chorus.networks.tasks import refresh_server_limits_of

    refresh_server_limits_of(account.provider, account.server)


# --------------------------------------------------------------------------- use


def _record_success(account: SocialAccount, provider: Provider) -> None:
    account.last_ok_at = timezone.now()
    if provider.rate_budget:
        account.rate_limit = provider.rate_budget.limit
        account.rate_remaining = provider.rate_budget.remaining
        account.rate_reset_at = provider.rate_budget.reset_at


@contextmanager
def provider_for(account: SocialAccount) -> Iterator[Provider]:
    """A provider acting as `account`; its outcome is written to the account's health.

    Auth failures mark the account needs-reconnect (work for it is held, nothing lost);
    other errors are recorded and re-raised for the caller's retry policy.
    """
    if account.status != AccountStatus.ACTIVE:
        raise AuthExpired(_("Reconnect %(handle)s to use it again.") % {"handle": account.handle})
    provider_class = get_provider(account.provider)
    credentials = Credentials(identity=dict(account.identity), secrets=account.secrets)
    with http.client() as client:
        provider = provider_class(credentials, http=client)
        try:
            yield provider
        except AuthExpired as exc:
            _record_failure(account, provider, exc, AccountStatus.NEEDS_RECONNECT)
            raise
        except ProviderError as exc:
            _record_failure(account, provider, exc, None)
            raise
        else:
            fields = ["last_ok_at", "rate_limit", "rate_remaining", "rate_reset_at"]
            if provider.credentials_changed:
                account.secrets = provider.credentials.secrets
                account.identity = provider.credentials.identity
                fields += ["secrets_encrypted", "identity"]
            _record_success(account, provider)
            account.save(update_fields=fields)


def _record_failure(account, provider, error: ProviderError, status: str | None) -> None:
    account.last_error = error.message[:2000]
    account.last_error_at = timezone.now()
    fields = ["last_error", "last_error_at"]
    if provider.credentials_changed:  # renewed before the call failed: the old refresh
        account.secrets = provider.credentials.secrets  # token may be spent (X rotates it)
        account.identity = provider.credentials.identity
        fields += ["secrets_encrypted", "identity"]
    if status:
        account.status = status
        fields.append("status")
    if provider.rate_budget:
        account.rate_limit = provider.rate_budget.limit
        account.rate_remaining = provider.rate_budget.remaining
        account.rate_reset_at = provider.rate_budget.reset_at
        fields += ["rate_limit", "rate_remaining", "rate_reset_at"]
    account.save(update_fields=fields)


def server_limits_refresh(*, provider_key: str = "", server: str = "") -> int:
    """Read each server's own limits (one request per server, not per account) and store
    them for the composer; a server that cannot be read keeps its last values (or the
    network's defaults) and the failure is recorded. Returns how many servers answered.

    Only networks whose servers set their own limits (`Provider.limits_per_server`) are
    asked; `provider_key` and `server` narrow it to one server (after a connect).
    """
    accounts = SocialAccount.objects.filter(status=AccountStatus.ACTIVE).exclude(server="")
    if provider_key:
        accounts = accounts.filter(provider=provider_key)
    if server:
        accounts = accounts.filter(server=server)
    identities: dict[tuple[str, str], dict] = {}
    for key, host, identity in accounts.order_by("-last_ok_at").values_list(
        "provider", "server", "identity"
    ):
        provider = PROVIDERS.get(key)
        if provider is not None and provider.limits_per_server:
            identities.setdefault((key, host), identity)
    refreshed = 0
    with http.client() as client:
        for (key, host), identity in identities.items():
            row, _new = ServerLimits.objects.get_or_create(provider=key, server=host)
            try:
                limits = get_provider(key).fetch_limits(identity, http=client)
            except ProviderError as exc:
                row.last_error, row.last_error_at = exc.message[:2000], timezone.now()
                row.save(update_fields=["last_error", "last_error_at"])
                continue
            row.values, row.refreshed_at, row.last_error = (
                limits.server_values(),
                timezone.now(),
                "",
            )
            row.save(update_fields=["values", "refreshed_at", "last_error"])
            refreshed += 1
    return refreshed


def account_check(*, account: SocialAccount) -> SocialAccount:
    """Ask the network whether the credentials still work; the result lands in health."""
    try:
        with provider_for(account) as provider:
            provider.refresh()
            provider.verify()
    except ProviderError:
        pass  # recorded on the account by provider_for
    return account


def accounts_due_for_check(*, older_than: timedelta):
    cutoff = timezone.now() - older_than
    return SocialAccount.objects.filter(status=AccountStatus.ACTIVE).exclude(last_ok_at__gt=cutoff)


# --------------------------------------------------------------------------- manage


@transaction.atomic
def account_disconnect(*, actor: Membership, account: SocialAccount) -> None:
    """Forget the credentials; the row stays so history (posts, metrics) keeps its account."""
    check_capability(actor, Capability.MANAGE_ACCOUNTS)
    if account.workspace_id != actor.workspace_id:
        raise NotFound(_("No such social account."))
    account.secrets = {}
    account.status = AccountStatus.DISCONNECTED
    account.save(update_fields=["secrets_encrypted", "status"])
    account.allowed_members.clear()
    audit_record(
        action=AuditAction.ACCOUNT_DISCONNECTED,
        actor=actor,
        workspace=actor.workspace,
        target=account,
        changes={"before": {"provider": account.provider, "handle": account.handle}, "after": None},
    )


def account_set_members(
    *, actor: Membership, account: SocialAccount, memberships: list[Membership]
) -> SocialAccount:
    """Choose which members may publish as the account (the former "may use"): each chosen
    member gets the publish level (and keeps their other levels); the others lose all."""
    current = {g.membership_id: g.levels for g in AccountGrant.every.filter(socialaccount=account)}
    levels = {m: current.get(m.pk, set()) | {AccessLevel.PUBLISH.value} for m in memberships}
    return account_set_member_levels(actor=actor, account=account, levels=levels)


def account_set_member_levels(
    *, actor: Membership, account: SocialAccount, levels: dict[Membership, set[str]]
) -> SocialAccount:
    """Set each listed member's levels on the account (publish, draft, reply, analytics);
    members not listed, or listed with no level, lose access. Admins and owners always have
    every level, whatever is stored."""
    check_capability(actor, Capability.MANAGE_ACCOUNTS)
    if account.workspace_id != actor.workspace_id or any(
        m.workspace_id != actor.workspace_id for m in levels
    ):
        raise NotFound(_("No such social account or member."))
    unknown = {level for chosen in levels.values() for level in chosen} - set(AccessLevel.values)
    if unknown:
        raise ServiceError(
            _("Unknown access level: %(level)s") % {"level": ", ".join(sorted(unknown))},
            field="members",
        )
    with transaction.atomic():
        SocialAccount.objects.select_for_update().filter(pk=account.pk).first()
        before = _levels_snapshot(account)
        AccountGrant.every.filter(socialaccount=account).delete()
        AccountGrant.every.bulk_create(
            [
                AccountGrant(
                    socialaccount=account,
                    membership=membership,
                    **{level: level in chosen for level in AccessLevel.values},
                )
                for membership, chosen in levels.items()
                if chosen
            ]
        )
        after = _levels_snapshot(account)
        if after != before:
            audit_record(
                action=AuditAction.ACCOUNT_ACCESS_CHANGED,
                actor=actor,
                workspace=actor.workspace,
                target=account,
                changes={"before": before, "after": after},
            )
    return account


def _levels_snapshot(account: SocialAccount) -> dict:
    """{"members": [emails], "levels": {email: [levels]}} for the audit log."""
    levels = {
        g.membership.user.email: sorted(g.levels)
        for g in AccountGrant.every.filter(socialaccount=account).select_related("membership__user")
    }
    return {"members": sorted(levels), "levels": levels}


def networks_for_connect() -> list[dict]:
    """What the connect page offers: each network, how it signs in, and the installation
    settings it still lacks (`needs_setup`, with its guide) instead of a form that fails."""
    return [
        {
            "key": key,
            "name": provider.name,
            "auth": "password" if issubclass(provider, PasswordSignIn) else "oauth",
            "asks_server": getattr(provider, "asks_server", True),
            "offers_oauth": issubclass(provider, OAuthSignIn),
            "missing_settings": missing_setup(provider),
            "needs_setup": bool(missing_setup(provider)),
            "guide": provider.setup_guide,
            "notice": provider.notice(),
        }
        for key, provider in PROVIDERS.items()
    ]


def secrets_rotate() -> int:
    """Re-encrypt every stored secret with the newest key; returns how many rows changed."""
    from chorus.core import crypto

    count = 0
    for account in SocialAccount.objects.exclude(secrets_encrypted=""):
        account.secrets_encrypted = crypto.rotate(account.secrets_encrypted)
        account.save(update_fields=["secrets_encrypted"])
        count += 1
    for oauth_client in OAuthClient.objects.all():
        oauth_client.client_secret_encrypted = crypto.rotate(oauth_client.client_secret_encrypted)
        oauth_client.save(update_fields=["client_secret_encrypted"])
        count += 1
    return count
