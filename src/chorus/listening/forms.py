"""Forms of the listening pages (the web layer parses input with them, services decide)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import QueryRole, TopicKind
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
