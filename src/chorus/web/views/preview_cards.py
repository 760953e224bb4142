"""The composer's per-network previews: each account's post drawn the way its network draws
a post (name and handle line, avatar, text, media, link card, first comment), with the
counters, problems and policy marks of the composer.

How each network lays a post out is one `Look` per network (`LOOKS`); the template
(`publishing/_preview.html`) reads it through CSS classes keyed on the network. Avatars and
link-card images are never hot-linked: they are served from Chorus's origin through
`preview_image` (fetched, checked and written again by `publishing.previews`). A link card
not yet read is loaded after the preview by `link_card` (htmx), so typing never waits for a
page elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from chorus.governance.policies import highlight
from chorus.governance.services import PolicyChecker
from chorus.networks.providers import get_provider
from chorus.publishing import previews, services
from chorus.publishing.models import MediaAsset, RemoteImage
from chorus.publishing.validation import part_lengths
from chorus.text import NETWORKS, find_entities
from chorus.text.formatting import telegram_runs
from chorus.text.language import detect_language
from chorus.web.views.common import member_required, public
from chorus.web.views.languages import language_name

if TYPE_CHECKING:
    from chorus.web.views.composer import Composer

AVATAR_COLOURS = 6  # .av-c0 … .av-c5 in chorus.css


@dataclass(frozen=True)
class Look:
    """How a network draws a post."""

    avatar: str = "round"  # "round" or "square"
    names: str = "both"  # "both": name and @handle; "name": the name; "username": the handle
    when: str = "now"  # "now" after the handle, "just" (Just now · globe) under the name, ""
    media: str = "grid"  # "grid", "carousel" (a strip to swipe) or "vertical" (one video)
    media_first: bool = False  # the media above the text (the text is a caption)
    card: str = "full"  # "full": the page's card; "bare": the link as its own title; "": none
    card_from_text: bool = True  # the first link in the text makes the card too
    comment: str = "reply"  # the first comment as a "reply" in the thread, a "comment", or ""


LOOKS: dict[str, Look] = {
    "x": Look(),
    # Bluesky and LinkedIn are sent the link as the card's title, without the page's meta
    # (networks.providers.bluesky / linkedin), so that is what they will show.
    "bluesky": Look(card="bare", card_from_text=False, when=""),
    "mastodon": Look(avatar="square", when=""),
    "threads": Look(names="username", media="carousel"),
    "facebook": Look(names="name", when="just", comment="comment"),
    "linkedin": Look(
        names="name", when="just", card="bare", card_from_text=False, comment="comment"
    ),
    "instagram": Look(
        names="username", when="", media="carousel", media_first=True, card="", comment="comment"
    ),
    "tiktok": Look(
        names="username", when="", media="vertical", media_first=True, card="", comment=""
    ),
    "telegram": Look(names="name", when="", media_first=True, card_from_text=False),
}


def look_of(account) -> Look:
    look = LOOKS.get(account.provider, Look())
    author = str((account.identity or {}).get("author", ""))
    if account.provider == "linkedin" and author.startswith("urn:li:organization"):
        return Look(**{**look.__dict__, "avatar": "square"})  # a company page's square logo
    return look


def segments(text: str, provider_key: str) -> list[dict]:
    """The text cut into plain runs and the links, mentions and hashtags the network sees;
    on Telegram, the formatting it shows (bold, italic, spoilers, links...)."""
    if provider_key == "telegram":
        return [{"kind": k, "text": t, "value": v} for k, t, v in telegram_runs(text)]
    if provider_key not in NETWORKS:
        return [{"kind": "", "text": text}]
    result, cursor = [], 0
    for entity in find_entities(text, provider_key):
        if entity.start > cursor:
            result.append({"kind": "", "text": text[cursor : entity.start]})
        result.append({"kind": entity.kind, "text": entity.text, "value": entity.value})
        cursor = entity.end
    if cursor < len(text):
        result.append({"kind": "", "text": text[cursor:]})
    return result


def assets_by_id(membership, ids) -> dict[int, MediaAsset]:
    return {a.pk: a for a in MediaAsset.objects.filter(workspace=membership.workspace, pk__in=ids)}


# --------------------------------------------------------------------------- the author


def _author(account, look: Look, failed: set[str]) -> dict:
    """The name line as the network prints it: "Name @handle" (X, Bluesky; Mastodon's
    handle is @user@server), the page or channel name (Facebook, LinkedIn, Telegram), the
    username alone (Instagram, Threads, TikTok)."""
    username = account.handle.lstrip("@")
    name = username if look.names == "username" else (account.display_name or username)
    avatar = account.avatar_url if account.avatar_url not in failed else ""
    letters = [w[0] for w in name.replace("@", " ").replace(".", " ").split() if w[0].isalnum()]
    return {
        "name": name,
        "handle": f"@{username}" if look.names == "both" else "",
        "initials": "".join(letters[:2]).upper() or "?",
        "colour": sum(map(ord, account.handle)) % AVATAR_COLOURS,
        "avatar_src": image_src(avatar) if avatar else "",
    }


def image_src(url: str) -> str:
    return reverse("preview_image", kwargs={"token": previews.image_token(url)})


def _failed_images(urls) -> set[str]:
    """The images among `urls` that could not be had lately (shown as initials or not at
    all); "" too, so an empty address is never drawn."""
    wanted = {u for u in urls if u}
    if not wanted:
        return {""}
    rows = RemoteImage.objects.filter(url__in=wanted).exclude(error="").only("url", "fetched_at")
    return {"", *(row.url for row in rows if previews.is_fresh(row))}


# --------------------------------------------------------------------------- link cards


def card_link(item, account, look: Look) -> str:
    """The link this network would draw a card for: none beside media."""
    if not look.card or item.media:
        return ""
    if item.link:
        return item.link
    return previews.first_link(item.text, account.provider) if look.card_from_text else ""


def link_card(url: str, look: Look, kept: dict, failed: set[str]) -> dict | None:
    """The card to draw: the kept one, a placeholder that loads it, or none."""
    if not url:
        return None
    if look.card == "bare":
        return {"kind": "bare", "url": url, "title": url, "site_name": previews.site_of(url)}
    row = kept.get(url)
    if row is None or not previews.is_fresh(row):
        return {"kind": "pending", "url": url, "token": previews.link_token(url)}
    return card_of(row, failed)


def card_of(row, failed: set[str]) -> dict | None:
    """A kept card as the template draws it (without a picture that could not be had)."""
    if not row.has_card:
        return None
    return {
        "kind": "full",
        "url": row.url,
        "title": row.title,
        "description": row.description,
        "site_name": row.site_name,
        "image_src": image_src(row.image_url) if row.image_url not in failed else "",
    }


# --------------------------------------------------------------------------- the cards


def preview_cards(
    membership, state: Composer, accounts: dict[int, object], *, assets=None, checker=None
) -> list[dict]:
    """Per chosen account: counters as its network counts, its problems, and its post as
    the network draws it.

    A page of many posts passes the media `assets` by id and a `PolicyChecker`, loaded
    once for all of them."""
    if assets is None:
        assets = assets_by_id(membership, [i for i, _alt in state.media])
    items = [(i, accounts.get(i.account_id)) for i in state.inputs()]
    items = [(item, account) for item, account in items if account is not None]
    links = {item.account_id: card_link(item, account, look_of(account)) for item, account in items}
    kept = previews.link_previews(links.values())
    failed = _failed_images(
        [a.avatar_url for _i, a in items] + [c.image_url for c in kept.values()]
    )
    cards = []
    for item, account in items:
        look = look_of(account)
        parts = [item.text, *item.thread]
        labels = [_("Post")] + [
            _("Thread part %(n)s") % {"n": n} for n in range(2, len(item.thread) + 2)
        ]
        if item.first_comment:
            parts.append(item.first_comment)
            labels.append(_("First comment"))
        lengths = part_lengths(
            account.provider,
            parts,
            account=account,
            content_warning=item.content_warning,
            warned=1 + len(item.thread),
            with_media=bool(item.media),
        )
        media = [
            {"asset": assets[i], "alt": alt or assets[i].alt_text}
            for i, alt in item.media
            if i in assets
        ]
        shown = [
            {"label": label, "length": length, "segments": segments(text, account.provider)}
            for label, length, text in zip(labels, lengths, parts, strict=True)
        ]
        card = link_card(links[item.account_id], look, kept, failed)
        cards.append(
            {
                "account": account,
                "network": get_provider(account.provider).name,
                "look": look,
                "author": _author(account, look, failed),
                "parts": shown[:-1] if item.first_comment else shown,
                "first_comment": shown[-1] if item.first_comment else None,
                "counter": lengths[0],
                "problems": services.input_problems(item, account, assets),
                "content_warning": item.content_warning,
                "language": language_name(item.language or detect_language(item.text)),
                "language_chosen": bool(item.language),
                "link": item.link,
                "link_card": card,
                "poll": item.poll,
                "media": media,
                **_policy_context(membership, account, parts, item.link, checker),
            }
        )
    return cards


def _policy_context(membership, account, parts: list[str], link: str, checker=None) -> dict:
    """The compliance policies this variant breaks, with the offending words marked
    (shown here; enforced on submit, on approval and at publish time)."""
    text = "\n\n".join(p for p in parts if p)
    checker = checker or PolicyChecker(membership.workspace)
    violations = checker.check(text=text, account=account, links=[link] if link else None)
    return {"violations": violations, "marked": highlight(text, violations) if violations else []}


# --------------------------------------------------------------------------- views

# A served image may not run script or load anything, whatever a browser makes of it.
IMAGE_CSP = "default-src 'none'; sandbox"


@member_required()
@require_GET
def link_card_view(request, token: str):
    """A link's card, read from its page now if not kept (htmx, after the preview); without
    one, the link itself when the post carries it (`plain`)."""
    url = previews.link_url_of(token)
    if url is None:
        raise Http404(_("This link has expired or is not valid."))
    row = previews.link_preview_get(url)
    context = {
        "linkcard": card_of(row, _failed_images([row.image_url])),
        "plain": url if request.GET.get("plain") else "",
    }
    return render(request, "publishing/_link_card.html", context)


@public
@require_GET
def preview_image(request, token: str):
    """An avatar or link-card image, by the signed name a preview gave it: fetched once
    through the outbound guard, written again as JPEG or PNG, never as anything active."""
    url = previews.image_url_of(token)
    if url is None:
        raise Http404(_("This link has expired or is not valid."))
    image = previews.image_get(url)
    if image.error or not image.data:
        response = HttpResponse(status=404, content_type="text/plain")
        response["Cache-Control"] = "private, max-age=3600"
    else:
        response = HttpResponse(bytes(image.data), content_type=image.content_type)
        response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = IMAGE_CSP
    response["Content-Disposition"] = "inline"
    return response
