"""Forms of the links pages: link settings, campaign UTM defaults, goals, the UTM builder."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from chorus.links.models import BaselineMode, TargetKind


class LinkSettingsForm(forms.Form):
    track_links = forms.BooleanField(label=_("Shorten and tag links in posts"), required=False)
    utm_medium = forms.CharField(label=_("UTM medium"), max_length=100, initial="social")
    attribution_days = forms.IntegerField(
        label=_("Attribution window (days)"), min_value=1, max_value=90, initial=7
    )
    store_ip = forms.BooleanField(
        label=_("Store the visitor's IP address with each click"), required=False
    )
    short_domain = forms.CharField(
        label=_("Custom short domain"),
        max_length=253,
        required=False,
        help_text=_("Point its DNS at Chorus and add it to ALLOWED_HOSTS; blank: Chorus's own."),
    )


class CampaignLinksForm(forms.Form):
    utm_campaign = forms.CharField(label=_("UTM campaign"), max_length=100, required=False)
    utm_medium = forms.CharField(label=_("UTM medium"), max_length=100, required=False)


class UtmBuilderForm(forms.Form):
    """The composer's per-post UTM choices (blank: the campaign's and workspace's)."""

    track_links = forms.BooleanField(label=_("Track the links in this post"), required=False)
    utm_campaign = forms.CharField(label=_("UTM campaign"), max_length=100, required=False)
    utm_medium = forms.CharField(label=_("UTM medium"), max_length=100, required=False)
    utm_content = forms.CharField(label=_("UTM content"), max_length=100, required=False)


class GoalForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    metric = forms.ChoiceField(label=_("Metric"))
    campaign = forms.TypedChoiceField(
        label=_("Campaign"), coerce=int, required=False, empty_value=None
    )
    starts_on = forms.DateField(label=_("Starts"), widget=forms.DateInput(attrs={"type": "date"}))
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}))
    baseline_mode = forms.ChoiceField(label=_("Baseline"), choices=BaselineMode.choices)
    baseline = forms.DecimalField(
        label=_("Baseline figure"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    target_kind = forms.ChoiceField(label=_("Target"), choices=TargetKind.choices)
    target_value = forms.DecimalField(
        label=_("Target value"), min_value=0, max_digits=14, decimal_places=2
    )

    def __init__(self, *args, metrics=(), campaigns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = list(metrics)
        self.fields["campaign"].choices = [("", _("The whole workspace"))] + [
            (c.pk, c.name) for c in campaigns
        ]
