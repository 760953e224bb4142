"""Writes for planning: campaigns (why, for whom, when, budget) and each account's weekly
queue slots. Like `services`, each function checks the acting membership's role here."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from chorus.accounts.models import Membership
from chorus.accounts.roles import Capability
from chorus.accounts.services import check_capability
from chorus.core.errors import NotFound, ServiceError
from chorus.networks.models import SocialAccount
from chorus.publishing.models import Campaign, QueueSlot


def campaign_save(
    *,
    actor: Membership,
    name: str,
    campaign: Campaign | None = None,
    description: str = "",
    colour: str = "#3b5bdb",
    starts_on=None,
    ends_on=None,
    reason: str | None = None,
    audience: str | None = None,
    budget_amount=None,
    budget_currency: str | None = None,
    owner_id: int | None = None,
) -> Campaign:
    """Create or change a campaign and its plan: why (reason), for whom (audience), when,
    and its budget if it has one. The plan's fields left as None keep what they were; a
    new campaign is owned by whoever creates it (the owner hears when its goals are at
    risk)."""
    check_capability(actor, Capability.PUBLISH_POSTS)
    if not name.strip():
        raise ServiceError(_("A campaign needs a name."), field="name")
    if starts_on and ends_on and ends_on < starts_on:
        raise ServiceError(_("The campaign ends before it starts."), field="ends_on")
    currency = (budget_currency or "").strip().upper()
    if budget_amount is not None and budget_amount < 0:
        raise ServiceError(_("A budget cannot be negative."), field="budget_amount")
    if budget_amount is not None and not (len(currency) == 3 and currency.isalpha()):
        raise ServiceError(
            _("Give the budget's currency as a three-letter code, such as THB."),
            field="budget_currency",
        )
    campaign = campaign or Campaign(workspace=actor.workspace, owner=actor)
    if campaign.workspace_id != actor.workspace_id:
        raise NotFound(_("No such campaign."))
    if owner_id is not None:
        owner = Membership.objects.filter(workspace=actor.workspace, pk=owner_id).first()
        if owner is None:
            raise NotFound(_("No such member."), field="owner")
        campaign.owner = owner
    campaign.name, campaign.description, campaign.colour = name.strip(), description, colour
    campaign.starts_on, campaign.ends_on = starts_on, ends_on
    if reason is not None:
        campaign.reason = reason.strip()
    if audience is not None:
        campaign.audience = audience.strip()
    if budget_currency is not None or budget_amount is not None:
        campaign.budget_amount = budget_amount
        campaign.budget_currency = currency if budget_amount is not None else ""
    campaign.save()
    return campaign


@transaction.atomic
def queue_slots_set(
    *, actor: Membership, account: SocialAccount, slots: list[tuple[int, object]]
) -> list[QueueSlot]:
    """Replace an account's weekly posting times: [(weekday 0-6, time), ...]."""
    check_capability(actor, Capability.PUBLISH_POSTS)
    if account.workspace_id != actor.workspace_id:
        raise NotFound(_("No such social account."))
    if any(not 0 <= weekday <= 6 for weekday, _t in slots):
        raise ServiceError(_("Weekdays go from 0 (Monday) to 6 (Sunday)."), field="slots")
    account.slots.all().delete()
    return QueueSlot.objects.bulk_create(
        [QueueSlot(account=account, weekday=w, time=t) for w, t in sorted(set(slots))]
    )
