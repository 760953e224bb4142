"""Listening pages: topics with their queries, matched posts and analysis; a query preview
that answers while the query is typed; source health."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from chorus.accounts.roles import Capability, role_can
from chorus.core.errors import ServiceError
from chorus.listening import selectors, services
from chorus.listening.forms import AlertRuleForm, PreviewForm, QueryForm, RetentionForm, TopicForm
from chorus.listening.query import QueryError
from chorus.web.views.common import member_required, show_service_error
from chorus.web.views.listening_boards import reply_accounts_by_network

MENTIONS_PAGE_SIZE = 25


def _can_manage(request) -> bool:
    return role_can(request.membership.role, Capability.MANAGE_LISTENING)


@member_required()
@require_http_methods(["GET", "POST"])
def listening(request):
    """Topics, the form for a new one, retention and the sources' health."""
    workspace = request.membership.workspace
    form = TopicForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST":
        if not _can_manage(request):
            raise PermissionDenied
        if form.is_valid():
            try:
                topic = services.topic_create(actor=request.membership, **form.cleaned_data)
            except ServiceError as exc:
                show_service_error(form, exc)
            else:
                messages.success(request, _("Topic “%(name)s” created.") % {"name": topic.name})
                return redirect("listening_topic", topic.pk)
    context = {
        "topics": selectors.topics_of(workspace),
        "form": form,
        "retention_form": RetentionForm(
            initial={"retention_days": selectors.retention_days(workspace)}
        ),
        "can_manage": _can_manage(request),
        "sources": selectors.sources(),
    }
    return render(request, "listening/topics.html", context, status=400 if form.errors else 200)


@member_required(Capability.MANAGE_LISTENING)
@require_POST
def listening_retention(request):
    form = RetentionForm(request.POST)
    if form.is_valid():
        try:
            services.retention_set(
                actor=request.membership, days=form.cleaned_data["retention_days"]
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Retention saved."))
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("listening")


@member_required()
@require_http_methods(["GET", "POST"])
def listening_topic(request, topic_id: int):
    """One topic: its queries (and a form to add one), analysis and the matched posts."""
    workspace = request.membership.workspace
    topic = selectors.access_topic(workspace=workspace, topic_id=topic_id)
    form = QueryForm(request.POST or None)
    if request.method == "POST" and not _can_manage(request):
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        try:
            services.query_create(actor=request.membership, topic=topic, **form.cleaned_data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, _("Query added."))
            return redirect("listening_topic", topic.pk)
    language = request.GET.get("language", "")[:16]
    network = request.GET.get("network", "")[:20]
    window = _window(request, topic)
    page = Paginator(
        selectors.mentions_of(topic, language=language, network=network, **window),
        MENTIONS_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    matched = selectors.matched_queries(list(page), topic)
    saved = selectors.boards_holding(list(page))
    reply_accounts = reply_accounts_by_network(request.membership, list(page))
    for mention in page:
        mention.matched = matched.get(mention.pk, [])
        mention.saved_to = saved.get(mention.pk, [])
        mention.reply_accounts = reply_accounts.get(mention.network, [])
    volume = selectors.volume_over_time(topic)
    peak = max((n for _day, n in volume), default=0) or 1
    context = {
        "topic": topic,
        "queries": selectors.queries_of(topic),
        "form": form,
        "topic_form": TopicForm(
            initial={"name": topic.name, "kind": topic.kind, "is_active": topic.is_active}
        ),
        "can_manage": _can_manage(request),
        "page": page,
        "language": language,
        "network": network,
        "volume": [(day, n, round(100 * n / peak)) for day, n in volume],
        "share": selectors.share_of_voice(topic),
        "hashtags": selectors.top_hashtags(topic),
        "terms": selectors.top_terms(topic),
        "languages": selectors.breakdown(topic, "language"),
        "networks": selectors.breakdown(topic, "network"),
        "window": window,
        "alert_rules": selectors.alert_rules_of(topic),
        "alert_rule_form": AlertRuleForm(topic=topic),
        "alerts": selectors.alerts_of(workspace, topic=topic)[:10],
        "boards": list(selectors.boards_of(workspace)) if _can_manage(request) else [],
    }
    status = 400 if form.errors else 200
    return render(request, "listening/topic.html", context, status=status)


def _window(request, topic) -> dict:
    """The `since`/`until` (and `query`) filter an alert's link carries; bad values are
    ignored so a mangled link still shows the topic."""
    window: dict = {}
    for key in ("since", "until"):
        moment = parse_datetime(request.GET.get(key, "")[:40])
        if moment is not None and moment.tzinfo is not None:
            window[key] = moment
    query_id = request.GET.get("query", "")
    if query_id.isdigit():
        window["query"] = topic.queries.filter(pk=int(query_id)).first()
    return window


@member_required(Capability.MANAGE_LISTENING)
@require_POST
def listening_topic_edit(request, topic_id: int):
    topic = selectors.access_topic(workspace=request.membership.workspace, topic_id=topic_id)
    form = TopicForm(request.POST)
    if form.is_valid():
        try:
            services.topic_update(actor=request.membership, topic=topic, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Topic saved."))
    else:
        messages.error(request, _("Give the topic a name and a kind."))
    return redirect("listening_topic", topic.pk)


@member_required(Capability.MANAGE_LISTENING)
@require_POST
def listening_topic_delete(request, topic_id: int):
    topic = selectors.access_topic(workspace=request.membership.workspace, topic_id=topic_id)
    services.topic_delete(actor=request.membership, topic=topic)
    messages.success(request, _("Topic “%(name)s” deleted.") % {"name": topic.name})
    return redirect("listening")


@member_required(Capability.MANAGE_LISTENING)
@require_http_methods(["GET", "POST"])
def listening_query_edit(request, query_id: int):
    query = selectors.access_query(workspace=request.membership.workspace, query_id=query_id)
    initial = {"name": query.name, "role": query.role, "text": query.text}
    form = QueryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.query_update(actor=request.membership, query=query, **form.cleaned_data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, _("Query saved."))
            return redirect("listening_topic", query.topic_id)
    status = 400 if form.errors else 200
    return render(
        request, "listening/query_form.html", {"form": form, "query": query}, status=status
    )


@member_required(Capability.MANAGE_LISTENING)
@require_POST
def listening_query_delete(request, query_id: int):
    query = selectors.access_query(workspace=request.membership.workspace, query_id=query_id)
    topic_id = query.topic_id
    services.query_delete(actor=request.membership, query=query)
    messages.success(request, _("Query deleted."))
    return redirect("listening_topic", topic_id)


@member_required()
@require_POST
def listening_preview(request):
    """htmx, while typing: the parser's error with its column, or the recent posts matched."""
    form = PreviewForm(request.POST)
    context: dict = {}
    if form.is_valid():
        text = form.cleaned_data["text"]
        try:
            context["preview"] = selectors.preview(request.membership.workspace, text)
        except QueryError as exc:
            context.update(error=exc, text=text, caret=" " * (exc.column - 1) + "^")
    return render(request, "listening/_preview.html", context)
