"""Forms of the listening pages (the web layer parses input with them, services decide)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from chorus.accounts.models import Membership

from .boards import MAX_NOTE
from .models import AlertKind, Query, QueryRole, Topic, TopicKind
from .query import MAX_QUERY_LENGTH
from .services import MAX_RETENTION_DAYS

QUERY_HELP = _(
    'AND, OR, NOT, (parentheses), "exact phrases", NEAR/3 (within 3 words), NEAR/3f (in '
    "this order), cust* (word beginning), #hashtag, @mention, author:, domain:, url:, lang:th, "
    "network:bluesky, has:link, has:media."
)


class TopicForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=TopicKind.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class QueryForm(forms.Form):
    name = forms.CharField(label=_("Label"), max_length=120)
    role = forms.ChoiceField(label=_("Stands for"), choices=QueryRole.choices)
    text = forms.CharField(
        label=_("Query"),
        max_length=MAX_QUERY_LENGTH,
        help_text=QUERY_HELP,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )


class PreviewForm(forms.Form):
    text = forms.CharField(max_length=MAX_QUERY_LENGTH)


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(
        label=_("Keep matched posts for (days)"), min_value=1, max_value=MAX_RETENTION_DAYS
    )


class AlertRuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Watch"), choices=AlertKind.choices)
    query = forms.ModelChoiceField(
        label=_("Query"),
        queryset=Query.objects.none(),
        required=False,
        empty_label=_("The whole topic"),
    )
    sensitivity = forms.FloatField(
        label=_("Sensitivity"),
        initial=4.0,
        min_value=0.5,
        max_value=20,
        help_text=_("How far above normal, in deviations, counts as a spike; lower alerts more."),
    )
    min_count = forms.IntegerField(
        label=_("Minimum posts"),
        initial=10,
        min_value=1,
        help_text=_("Never alert on fewer posts than this in the window."),
    )
    window_minutes = forms.IntegerField(
        label=_("Window (minutes)"), initial=5, min_value=1, max_value=1440
    )
    cooldown_minutes = forms.IntegerField(
        label=_("Quiet time after an alert (minutes)"), initial=60, min_value=0, max_value=10080
    )
    notify_members = forms.BooleanField(
        label=_("Tell every member in the app"), required=False, initial=True
    )
    email_members = forms.ModelMultipleChoiceField(
        label=_("E-mail to"),
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    webhook_url = forms.URLField(
        label=_("Webhook URL"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Chorus POSTs the alert as JSON, signed in the X-Chorus-Signature header."),
    )

    def __init__(self, *args, topic: Topic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["query"].queryset = topic.queries.order_by("name")
        members = Membership.objects.filter(workspace_id=topic.workspace_id)
        self.fields["email_members"].queryset = members.select_related("user").order_by("pk")
        self.fields["email_members"].label_from_instance = lambda m: m.user.email


class BoardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)


class SaveForm(forms.Form):
    board = forms.IntegerField()
    note = forms.CharField(required=False, max_length=MAX_NOTE)
