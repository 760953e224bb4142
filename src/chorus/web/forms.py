"""Forms validate the shape of input; services decide whether it is allowed."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chorus.accounts.roles import Role
from chorus.accounts.scopes import Scope
from chorus.core import timezones


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    throttled = False

    def clean(self):
        """Admit the attempt (counted atomically) before checking the password, or refuse it
        while this email or address is throttled."""
        from chorus.core.errors import ServiceError
        from chorus.governance.context import client_ip
        from chorus.governance.services import login_attempt_begin

        email = self.cleaned_data.get("username")
        if email and self.request is not None:
            try:
                self.request.chorus_login_attempt = login_attempt_begin(
                    email=email, ip_address=client_ip(self.request)
                )
            except ServiceError as exc:
                self.throttled = True
                raise forms.ValidationError(exc.message, code="throttled") from exc
        return super().clean()


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


SUGGESTED_TOKEN_DAYS = 90


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        suggested = timezone.localdate() + timedelta(days=SUGGESTED_TOKEN_DAYS)
        self.fields["expires_at"].initial = suggested
        self.fields["expires_at"].help_text = _(
            "We suggest %(days)s days from today; leave it empty for a token that never expires."
        ) % {"days": SUGGESTED_TOKEN_DAYS}


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


class BotConnectForm(forms.Form):
    """Telegram: a bot, made an administrator of the channel, posts there."""

    identifier = forms.CharField(
        label=_("Channel or group"),
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": "@yourchannel"}),
        help_text=_("Its @name, or the numeric id of a private one (it starts with -100)."),
    )
    password = forms.CharField(
        label=_("Bot token"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_(
            "From @BotFather. Add the bot as an administrator of the channel, allowed to "
            "post messages, before you connect."
        ),
    )
    silent = forms.BooleanField(
        label=_("Send posts silently"),
        required=False,
        help_text=_("Subscribers get the posts without a sound or vibration."),
    )
    service_url = forms.URLField(
        label=_("Bot API server (optional)"),
        required=False,
        assume_scheme="https",
        help_text=_("Only if you run your own Bot API server."),
    )


# The connect form of networks whose fields differ from the handle and app password.
PASSWORD_CONNECT_FORMS = {"telegram": BotConnectForm}


def password_connect_form(provider: str, *args, **kwargs) -> forms.Form:
    return PASSWORD_CONNECT_FORMS.get(provider, PasswordConnectForm)(*args, **kwargs)


class OAuthConnectForm(forms.Form):
    # Not required here: networks with one server (X) ask for none; the service asks the
    # others for it (OAuthSignIn.asks_server).
    server_url = forms.CharField(
        label=_("Server"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "mastodon.social"}),
    )


class BlueskyOAuthConnectForm(OAuthConnectForm):
    """atproto OAuth starts from a handle (or a DID, or the server's address)."""

    server_url = forms.CharField(
        label=_("Handle or server"),
        max_length=500,
        help_text=_("Your handle, such as alice.bsky.social, or your server's https address."),
        widget=forms.TextInput(attrs={"placeholder": "alice.bsky.social"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_bluesky_oauth_%s")  # beside another OAuth card
        super().__init__(*args, **kwargs)


OAUTH_CONNECT_FORMS = {"bluesky": BlueskyOAuthConnectForm}


def oauth_connect_form(provider: str, *args, **kwargs) -> forms.Form:
    return OAUTH_CONNECT_FORMS.get(provider, OAuthConnectForm)(*args, **kwargs)


# --------------------------------------------------------------------------- governance


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Who (email)"), max_length=254, required=False)
    target = forms.CharField(label=_("Target"), max_length=255, required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        from chorus.governance.models import AuditAction

        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Any action"))] + list(AuditAction.choices)


def _lines_widget(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"))
    action = forms.ChoiceField(label=_("When a post breaks it"))
    terms = forms.CharField(
        label=_("Banned terms and phrases"),
        required=False,
        widget=_lines_widget(),
        help_text=_("One per line. Matched as whole words, in any script, ignoring case."),
    )
    patterns = forms.CharField(
        label=_("Banned patterns (advanced)"),
        required=False,
        widget=_lines_widget(2),
        help_text=_("Regular expressions, one per line."),
    )
    disclaimer = forms.CharField(
        label=_("Required disclaimer"),
        required=False,
        widget=_lines_widget(2),
        help_text=_("Posts must contain this text."),
    )
    domains = forms.CharField(
        label=_("Domains"),
        required=False,
        widget=_lines_widget(),
        help_text=_("One per line, such as example.com; subdomains are included."),
    )
    accounts = forms.MultipleChoiceField(
        label=_("Social accounts"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: the policy applies to every account."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, accounts=(), **kwargs):
        from chorus.governance.models import PolicyAction, PolicyKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = PolicyKind.choices
        self.fields["action"].choices = PolicyAction.choices
        self.fields["accounts"].choices = [
            (str(account.pk), f"@{account.handle} ({account.provider})") for account in accounts
        ]


class PolicyCheckForm(forms.Form):
    text = forms.CharField(
        label=_("Sample text"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20000
    )
    account = forms.ChoiceField(label=_("As social account"), required=False)

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", _("Any account"))] + [
            (str(account.pk), f"@{account.handle} ({account.provider})") for account in accounts
        ]
