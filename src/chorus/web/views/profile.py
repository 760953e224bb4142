"""The signed-in person's own settings: name, language, zone, API tokens."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from chorus.accounts import selectors, services
from chorus.core.errors import ServiceError
from chorus.web.forms import ApiTokenForm, PreferencesForm
from chorus.web.views.common import member_required, show_service_error


@member_required()
@require_http_methods(["GET", "POST"])
def preferences(request):
    user = request.user
    form = PreferencesForm(
        request.POST or None,
        initial={"full_name": user.full_name, "language": user.language, "timezone": user.timezone},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_preferences(
                user=user,
                full_name=form.cleaned_data["full_name"],
                language=form.cleaned_data["language"],
                tz=form.cleaned_data["timezone"],
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            with translation.override(user.language):  # the language just chosen
                messages.success(request, _("Preferences saved."))
            return redirect("preferences")
    return render(request, "web/preferences.html", {"form": form})


@member_required()
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        expires = form.cleaned_data["expires_at"]
        if expires and isinstance(expires, dt.datetime) and timezone.is_naive(expires):
            expires = timezone.make_aware(expires)
        try:
            _token, new_secret = services.api_token_create(
                membership=request.membership,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=expires,
            )
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            form = ApiTokenForm()
    return render(
        request,
        "web/api_tokens.html",
        {"form": form, "tokens": selectors.tokens_of(request.membership), "new_secret": new_secret},
    )


@member_required()
@require_POST
def api_token_revoke(request, token_id: int):
    token = selectors.access_token(membership=request.membership, token_id=token_id)
    services.api_token_revoke(membership=request.membership, token=token)
    messages.success(request, _("Token revoked."))
    return redirect("api_tokens")
