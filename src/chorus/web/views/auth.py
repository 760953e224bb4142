"""Sign-up, invitation acceptance and the login view (Django's own auth machinery)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import (
    LoginView,
    PasswordChangeView,
    PasswordResetConfirmView,
    PasswordResetView,
)
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chorus.accounts import services
from chorus.accounts.middleware import SESSION_WORKSPACE_KEY
from chorus.core.errors import ServiceError
from chorus.core.site import absolute_url
from chorus.web.forms import EmailAuthenticationForm, InvitationSignUpForm, SignUpForm
from chorus.web.views.common import public, show_service_error

BACKEND = "chorus.accounts.auth.EmailBackend"


class ChorusPasswordResetView(PasswordResetView):
    """The reset link starts with the site's public address, like every e-mailed link (not
    with whatever host the request came in on)."""

    def form_valid(self, form):
        self.extra_email_context = {"site_url": absolute_url("/").rstrip("/")}
        return super().form_valid(form)


class ChorusLoginView(LoginView):
    """Django's sign-in, refused with 429 while the email or address is throttled."""

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(form, "throttled", False):
            response.status_code = 429
        return response


class ChorusPasswordChangeView(PasswordChangeView):
    """Django's password change; the user's API tokens are revoked with the old password
    (Django already ends the other sessions)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.api_tokens_revoke_all(user=form.user)
        return response


class ChorusPasswordResetConfirmView(PasswordResetConfirmView):
    """Django's password reset; as for a change, every API token of the user is revoked."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.api_tokens_revoke_all(user=form.user)
        return response


@public
@require_http_methods(["GET", "POST"])
def sign_up(request):
    if request.user.is_authenticated:
        return redirect("home")
    # The language offered first is the browser's (LocaleMiddleware read Accept-Language).
    initial = {"language": translation.get_language_from_request(request)}
    form = SignUpForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_sign_up(**form.cleaned_data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            login(request, user, backend=BACKEND)
            with translation.override(user.language):  # the language just chosen
                messages.success(request, _("Welcome to Chorus."))
            return redirect("home")
    return render(request, "registration/sign_up.html", {"form": form})


@public
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    try:
        invitation = services.invitation_from_token(token)
    except ServiceError as exc:
        return render(request, "web/invitation_invalid.html", {"message": exc.message}, status=404)
    context = {"invitation": invitation}
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                membership = services.invitation_accept(invitation=invitation, user=request.user)
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                request.session[SESSION_WORKSPACE_KEY] = membership.workspace_id
                messages.success(
                    request, _("You joined %(name)s.") % {"name": membership.workspace}
                )
                return redirect("home")
        return render(request, "web/invitation_accept.html", context)
    initial = {"language": translation.get_language_from_request(request)}
    form = InvitationSignUpForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_sign_up(invitation=invitation, **form.cleaned_data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            login(request, user, backend=BACKEND)
            request.session[SESSION_WORKSPACE_KEY] = invitation.workspace_id
            with translation.override(user.language):
                messages.success(
                    request, _("You joined %(name)s.") % {"name": invitation.workspace}
                )
            return redirect("home")
    return render(request, "web/invitation_accept.html", {**context, "form": form})
