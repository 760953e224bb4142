"""Connecting Facebook Pages and Instagram accounts: log in with Facebook once, then pick
which Pages and Instagram accounts this workspace uses (chorus.networks.meta_connect)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus.accounts.roles import Capability
from chorus.core.errors import ServiceError
from chorus.networks import meta_connect
from chorus.web.views.common import member_required

SESSION_KEY = "chorus_meta_connect"
GUIDES = ("docs/networks/facebook.md", "docs/networks/instagram.md")


@member_required(Capability.MANAGE_ACCOUNTS)
@require_GET
def meta_connect_start(request):
    """What connecting does, or, before the Meta app is set up, what the admin must do."""
    return render(
        request,
        "networks/meta_connect.html",
        {"needs_setup": meta_connect.needs_setup(), "guides": GUIDES},
    )


@member_required(Capability.MANAGE_ACCOUNTS)
@require_POST
def meta_connect_begin(request):
    try:
        return redirect(meta_connect.meta_begin(actor=request.membership))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("meta_connect_start")


@member_required(Capability.MANAGE_ACCOUNTS)
@require_GET
def meta_connect_callback(request):
    if request.GET.get("error"):
        messages.error(
            request,
            _("Facebook did not grant access: %(reason)s")
            % {"reason": request.GET.get("error_description") or request.GET["error"]},
        )
        return redirect("meta_connect_start")
    try:
        sealed = meta_connect.meta_complete(
            actor=request.membership,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("meta_connect_start")
    request.session[SESSION_KEY] = sealed
    return redirect("meta_connect_choose")


@member_required(Capability.MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def meta_connect_choose(request):
    """The Pages and Instagram accounts the Facebook user manages; connect those picked."""
    sealed = request.session.get(SESSION_KEY, "")
    error = ""
    if request.method == "POST":
        try:
            accounts = meta_connect.meta_connect_chosen(
                actor=request.membership, sealed=sealed, chosen=request.POST.getlist("chosen")
            )
        except ServiceError as exc:
            error = exc.message
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(
                request,
                _("Connected %(names)s.") % {"names": ", ".join(a.handle for a in accounts)},
            )
            return redirect("social_accounts")
    try:
        choices = meta_connect.meta_choices(actor=request.membership, sealed=sealed)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("meta_connect_start")
    rows = [
        {"key": meta_connect.choice_key(c), "choice": c}
        for c in sorted(choices, key=lambda c: (c.provider, c.name.lower()))
    ]
    return render(
        request,
        "networks/meta_choose.html",
        {"rows": rows, "error": error},
        status=400 if error else 200,
    )
