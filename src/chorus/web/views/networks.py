"""Connected social accounts: connect, health, who may use them, disconnect."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chorus.accounts import selectors as account_selectors
from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.core.site import absolute_url
from chorus.networks import budgets, selectors, services
from chorus.networks.models import AccessLevel
from chorus.networks.providers import bluesky_oauth
from chorus.networks.providers.base import ProviderError
from chorus.web.forms import oauth_connect_form, password_connect_form
from chorus.web.views.common import member_required, public, show_service_error


def _page(request, forms_by_network=None, status=200, oauth_forms=None):
    membership = request.membership
    forms_by_network, oauth_forms = forms_by_network or {}, oauth_forms or {}
    networks = [
        {
            **network,
            "form": forms_by_network.get(network["key"])
            or (
                password_connect_form(network["key"])
                if network["auth"] == "password"
                else oauth_forms.get(network["key"]) or oauth_connect_form(network["key"])
            ),
            # Networks with both sign-ins (Bluesky) show the OAuth one first, as recommended.
            "oauth_form": oauth_forms.get(network["key"]) or oauth_connect_form(network["key"]),
        }
        for network in services.networks_for_connect()
    ]
    return render(
        request,
        "networks/accounts.html",
        {
            "accounts": selectors.accounts_of(membership),
            "usable": set(selectors.accounts_usable_by(membership).values_list("pk", flat=True)),
            "can_manage": role_can(membership.role, Capability.MANAGE_ACCOUNTS),
            "networks": networks,
            "sandbox_url": settings.CHORUS_SANDBOX_URL,
        },
        status=status,
    )


@member_required()
def social_accounts(request):
    return _page(request)


@member_required(Capability.MANAGE_ACCOUNTS)
@require_POST
def connect_password(request, provider: str):
    form = password_connect_form(provider, request.POST)
    if form.is_valid():
        fields = dict(form.cleaned_data)
        credentials = {name: fields.pop(name) for name in ("identifier", "password")}
        service_url = fields.pop("service_url", "")
        choices = {
            name: "true" if value is True else str(value or "") for name, value in fields.items()
        }
        try:
            account = services.account_connect_with_password(
                actor=request.membership,
                provider_key=provider,
                service_url=service_url,
                choices=choices,
                **credentials,
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, _("Connected %(handle)s.") % {"handle": account.handle})
            back = request.POST.get("next", "")  # reconnecting from the account's page
            if back and url_has_allowed_host_and_scheme(back, allowed_hosts=None):
                return redirect(back)
            return redirect("social_accounts")
    return _page(request, {provider: form}, status=400)


@member_required(Capability.MANAGE_ACCOUNTS)
@require_POST
def connect_oauth(request, provider: str):
    form = oauth_connect_form(provider, request.POST)
    if form.is_valid():
        try:
            url = services.oauth_begin(
                actor=request.membership,
                provider_key=provider,
                server_url=form.cleaned_data["server_url"],
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            return redirect(url)
    return _page(request, oauth_forms={provider: form}, status=400)


@member_required(Capability.MANAGE_ACCOUNTS)
@require_GET
def oauth_callback(request):
    if request.GET.get("error"):
        messages.error(
            request,
            _("The network did not grant access: %(reason)s")
            % {"reason": request.GET.get("error_description") or request.GET["error"]},
        )
        return redirect("social_accounts")
    try:
        account = services.oauth_complete(
            actor=request.membership,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            issuer=request.GET.get("iss", ""),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Connected %(handle)s.") % {"handle": account.handle})
        if account.provider == "linkedin":  # then who it posts as: the member, their pages
            return redirect("linkedin_choose", account.pk)
    return redirect("social_accounts")


@public
@require_GET
def bluesky_client_metadata(request):
    """Chorus' atproto OAuth client metadata: public, as the spec requires (the client_id
    is this document's own URL)."""
    redirect_uri = services.oauth_redirect_uri()
    try:
        client_id = bluesky_oauth.client_id_for(redirect_uri)
    except ProviderError:
        raise Http404 from None
    document = bluesky_oauth.client_metadata(client_id, redirect_uri, site_url=absolute_url("/"))
    return JsonResponse(document, headers={"Cache-Control": "public, max-age=600"})


@member_required()
@require_GET
def network_guide(request, provider: str):
    """A network's setup guide from docs/networks/, shown as the plain text it is written
    in (escaped: it is never rendered as HTML)."""
    network = next((n for n in services.networks_for_connect() if n["key"] == provider), None)
    if network is None or not network["guide"]:
        raise Http404
    return render(
        request,
        "networks/guide.html",
        {
            "name": network["name"],
            "path": network["guide"],
            "text": services.read_guide(network["guide"]),
        },
    )


def _reconnect_form(account) -> dict:
    """The network's own connect form, filled in for this account: signing in again as the
    same account renews its token and keeps its history, access and held posts."""
    network = next(n for n in services.networks_for_connect() if n["key"] == account.provider)
    auth = network["auth"]
    identity = account.identity or {}
    if identity.get("auth") == "oauth":  # a Bluesky account signed in with OAuth
        auth = "oauth"
        identity = {"server_url": account.handle}
    if auth == "password":
        form = password_connect_form(
            account.provider,
            initial={
                "identifier": account.handle,
                "service_url": identity.get("pds_url") or identity.get("api_url", ""),
                "silent": bool(identity.get("silent")),
            },
        )
        action = reverse("connect_password", args=[account.provider])
    else:
        form = oauth_connect_form(
            account.provider, initial={"server_url": identity.get("server_url", "")}
        )
        action = reverse("connect_oauth", args=[account.provider])
    return {"form": form, "action": action, "auth": auth, "asks_server": network["asks_server"]}


@member_required()
def account_detail(request, account_id: int):
    account = selectors.access_account(membership=request.membership, account_id=account_id)
    grants = selectors.account_grants(account)
    members = [
        {
            "membership": m,
            "implicit": role_can(m.role, Capability.MANAGE_ACCOUNTS),
            "levels": grants.get(m.pk, set()),
        }
        for m in account_selectors.members_of(request.membership.workspace)
    ]
    can_manage = role_can(request.membership.role, Capability.MANAGE_ACCOUNTS)
    return render(
        request,
        "networks/account_detail.html",
        {
            "account": account,
            "reconnect": _reconnect_form(account) if can_manage else None,
            "server_budget": budgets.usage_of(account),
            "can_manage": can_manage,
            "server_limits": selectors.server_limits_row(account),
            "limits": selectors.account_limits(account),
            "members": members,
            "levels": AccessLevel.choices,
        },
    )


@member_required()
@require_POST
def account_check(request, account_id: int):
    account = selectors.access_account(membership=request.membership, account_id=account_id)
    services.account_check(account=account)
    if account.is_healthy:
        messages.success(request, _("%(handle)s works.") % {"handle": account.handle})
    else:
        messages.error(request, account.last_error)
    return redirect("account_detail", account_id=account.pk)


@member_required(Capability.MANAGE_ACCOUNTS)
@require_POST
def account_members(request, account_id: int):
    """Checkboxes `level-<member id>` = publish / draft / reply / analytics."""
    account = selectors.access_account(membership=request.membership, account_id=account_id)
    levels = {
        m: set(request.POST.getlist(f"level-{m.pk}"))
        for m in account_selectors.members_of(request.membership.workspace)
    }
    try:
        services.account_set_member_levels(actor=request.membership, account=account, levels=levels)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved who may use %(handle)s.") % {"handle": account.handle})
    return redirect("account_detail", account_id=account.pk)


@member_required(Capability.MANAGE_ACCOUNTS)
@require_POST
def account_disconnect(request, account_id: int):
    account = selectors.access_account(membership=request.membership, account_id=account_id)
    services.account_disconnect(actor=request.membership, account=account)
    messages.success(request, _("Disconnected %(handle)s.") % {"handle": account.handle})
    return redirect("social_accounts")
