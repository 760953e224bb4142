"""Per-account queues and posting slots, the on-time record and bulk import."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chorus.accounts.roles import Capability
from chorus.core.errors import ServiceError
from chorus.networks import selectors as network_selectors
from chorus.networks.providers import get_provider
from chorus.publishing import campaigns, imports, queues, selectors
from chorus.web.views.common import member_required
from chorus.web.views.composer import usable_accounts
from chorus.web.views.timeinput import parse_time, zone_name

QUEUED_SHOWN = 5  # queued posts listed per account; the rest are counted


class _LocalFormat:
    """A datetime in the current zone and `fmt`, formatted once per distinct instant (queued
    posts sit on slot times that the accounts share: five hundred rows, a few dozen times)."""

    def __init__(self, fmt: str):
        self.fmt, self.done = fmt, {}

    def __call__(self, instant: dt.datetime) -> str:
        if instant not in self.done:
            self.done[instant] = date_format(timezone.localtime(instant), self.fmt)
        return self.done[instant]


def _slot_text(slots: list[queues.Slot], weekday: int) -> str:
    return ", ".join(s.time.strftime("%H:%M") for s in slots if s.weekday == weekday)


class SlotsInvalid(ServiceError):
    """Some days hold something that is not a time; `errors` per weekday."""

    def __init__(self, errors: dict[int, str]):
        super().__init__(
            _("Nothing was saved: correct the days marked below, your other times are kept."),
            field="slots",
        )
        self.errors = errors


def parse_slots(data) -> list[tuple[int, dt.time]]:
    """`day-0` … `day-6` holding times like "09:00, 13:30" → [(weekday, time)].

    Every day is read; a wrong entry raises SlotsInvalid naming each wrong day."""
    slots, errors = [], {}
    for weekday in range(7):
        for piece in data.get(f"day-{weekday}", "").replace(";", ",").split(","):
            piece = piece.strip()
            if not piece:
                continue
            at = parse_time(piece if len(piece) > 2 else f"{piece}:00")
            if at is None:
                errors.setdefault(
                    weekday,
                    _("“%(value)s” is not a time; write times like 09:00, 13:30.")
                    % {"value": piece},
                )
                continue
            slots.append((weekday, at.replace(second=0, microsecond=0)))
    if errors:
        raise SlotsInvalid(errors)
    return slots


@member_required(Capability.PUBLISH_POSTS)
@require_GET
def queue(request):
    return _queue_page(request)


def _queue_page(request, *, typed: dict | None = None, status: int = 200):
    """Every usable account's slots, next free slot and queued posts, in a fixed number of
    queries however many accounts there are; `typed` keeps one account's refused form as
    written: {"account": id, "data": POST, "errors": {weekday: message}}."""
    now = timezone.now()
    weekday_names = [date_format(dt.date(2024, 1, 1 + n), "l") for n in range(7)]  # Mon..Sun
    accounts = list(
        network_selectors.accounts_usable_by(request.membership)
        .select_related("workspace")
        .prefetch_related(None)  # who may use each account is not shown here
    )
    ids = [a.pk for a in accounts]
    slots = queues.slots_by_account(ids)
    next_free = queues.next_free_slots(accounts, after=now, slots=slots)
    queued = selectors.queued_variants_by_account(ids, after=now, limit=QUEUED_SHOWN)
    counts = selectors.queued_counts(ids, after=now)
    detail = reverse("post_detail", args=[999999999]).split("999999999")
    calendar = reverse("calendar")
    when = _LocalFormat("SHORT_DATETIME_FORMAT")
    rows = []
    for account in accounts:
        mine = typed if typed and typed["account"] == account.pk else None
        rows.append(
            {
                "account": account,
                "network": get_provider(account.provider).name,
                "days": [
                    {
                        "weekday": n,
                        "name": weekday_names[n],
                        "times": mine["data"].get(f"day-{n}", "")
                        if mine
                        else _slot_text(slots[account.pk], n),
                        "error": mine["errors"].get(n, "") if mine else "",
                    }
                    for n in range(7)
                ],
                "error": mine["message"] if mine else "",
                "next_free": next_free.get(account.pk),
                "queued": [
                    {
                        "url": f"{detail[0]}{v.post_id}{detail[1]}",
                        "when": when(v.scheduled_at),
                        "text": v.text,
                    }
                    for v in queued.get(account.pk, [])
                ],
                "more": max(counts.get(account.pk, 0) - len(queued.get(account.pk, [])), 0),
                "more_url": f"{calendar}?view=list&account={account.pk}",
                "has_slots": bool(slots[account.pk]),
            }
        )
    return render(
        request, "publishing/queue.html", {"rows": rows, "zone_name": zone_name()}, status=status
    )


@member_required(Capability.PUBLISH_POSTS)
@require_POST
def queue_slots(request, account_id: int):
    account = next((a for a in usable_accounts(request) if a.pk == account_id), None)
    if account is None:
        raise Http404(_("No such social account."))
    try:
        campaigns.queue_slots_set(
            actor=request.membership, account=account, slots=parse_slots(request.POST)
        )
    except ServiceError as exc:  # show the form again as typed, the wrong days marked
        errors = getattr(exc, "errors", {})
        typed = {"account": account.pk, "data": request.POST, "errors": errors}
        return _queue_page(request, typed=typed | {"message": exc.message}, status=400)
    else:
        messages.success(
            request, _("Posting times saved for %(handle)s.") % {"handle": account.handle}
        )
    return redirect(reverse("queue") + f"#account-{account.pk}")


@member_required()
@require_GET
def on_time(request):
    """Lateness of published posts (promised time → network-confirmed time), 30 days."""
    return render(
        request,
        "publishing/on_time.html",
        {
            "by_account": selectors.on_time_record(request.membership, by="account"),
            "by_network": selectors.on_time_record(request.membership, by="network"),
        },
    )


@member_required(Capability.PUBLISH_POSTS)
@require_http_methods(["GET", "POST"])
def bulk_import(request):
    """CSV bulk scheduling: every row is checked and reported; all are scheduled or none."""
    report, error = None, ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a CSV file.")
        else:
            try:
                report = imports.posts_import_csv(
                    actor=request.membership,
                    data=upload.read(),
                    commit=request.POST.get("action") == "import",
                )
            except ServiceError as exc:
                error = exc.message
        if report and report.committed:
            messages.success(
                request,
                _("Scheduled %(n)s posts.") % {"n": len(report.post_ids)},
            )
            return redirect(f"{reverse('calendar')}?view=list")
    return render(
        request,
        "publishing/import.html",
        {"report": report, "error": error, "columns": imports.__doc__},
    )
