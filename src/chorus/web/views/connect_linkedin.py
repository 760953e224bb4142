"""Choosing who a LinkedIn sign-in posts as: the member and the organization pages they
administer (chorus.networks.linkedin_connect); shown right after LinkedIn sends them back."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chorus.accounts.roles import Capability
from chorus.core.errors import ServiceError
from chorus.networks import linkedin_connect
from chorus.web.views.common import member_required


@member_required(Capability.MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def linkedin_choose(request, account_id: int):
    error = ""
    if request.method == "POST":
        try:
            accounts = linkedin_connect.linkedin_choose(
                actor=request.membership,
                account_id=account_id,
                chosen=request.POST.getlist("chosen"),
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("Posting on LinkedIn as %(names)s.")
                % {"names": ", ".join(a.display_name or a.handle for a in accounts)},
            )
            return redirect("social_accounts")
    try:
        rows = linkedin_connect.linkedin_authors(actor=request.membership, account_id=account_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("social_accounts")
    return render(
        request,
        "networks/linkedin_choose.html",
        {"rows": rows, "error": error},
        status=400 if error else 200,
    )
