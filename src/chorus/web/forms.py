"""Forms validate the shape of input; services decide whether it is allowed."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from chorus.accounts.roles import Role
from chorus.accounts.scopes import Scope
from chorus.core import timezones


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class SignUpForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"))
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    workspace_name = forms.CharField(label=_("Workspace (your brand or client)"), max_length=120)
    workspace_timezone = forms.ChoiceField(label=_("Time zone"), initial="UTC")
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="en")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace_timezone"].choices = timezones.choices()


class InvitationSignUpForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="en")


class WorkspaceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    timezone = forms.ChoiceField(label=_("Time zone"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezones.choices()


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=80)


class PreferencesForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    timezone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [("", _("The workspace's zone"))] + timezones.choices()


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"), required=False, widget=forms.DateTimeInput(attrs={"type": "date"})
    )


class PasswordConnectForm(forms.Form):
    identifier = forms.CharField(
        label=_("Handle"),
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": "name.bsky.social"}),
    )
    password = forms.CharField(
        label=_("App password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_("Create one in the network's settings; never use your main password."),
    )
    service_url = forms.URLField(
        label=_("Server (optional)"),
        required=False,
        assume_scheme="https",
        help_text=_("Only for accounts hosted on your own server."),
    )


class OAuthConnectForm(forms.Form):
    server_url = forms.CharField(
        label=_("Server"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "mastodon.social"}),
    )
