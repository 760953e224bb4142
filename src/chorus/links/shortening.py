"""Tracked links in posts: UTM tagging and the short links the dispatcher publishes.

Registered in publishing's hooks (see apps.py): `shorten_claimed` rewrites claimed variants
just before they go out, `as_counted` makes the composer count each URL as the short URL
it will become. A URL already on the short domain is left alone, so a retried variant is
never shortened twice.
"""

from __future__ import annotations

import secrets
import string
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings as django_settings
from django.utils.text import slugify

from chorus.links.models import CampaignLinks, LinkSettings, PostLinks, ShortLink
from chorus.text.entities import find_links

CODE_LENGTH = 7
_ALPHABET = string.ascii_letters + string.digits
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")
_SETTINGS_TTL = 5.0  # seconds a process trusts its copy of a workspace's settings
_cache: dict[int, tuple[float, LinkSettings]] = {}


def new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def settings_of(workspace_id: int) -> LinkSettings:
    """The workspace's link settings (unsaved defaults when it has none), cached briefly."""
    hit = _cache.get(workspace_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    found = LinkSettings.objects.filter(workspace_id=workspace_id).first()
    found = found or LinkSettings(workspace_id=workspace_id, site_key="")
    _cache[workspace_id] = (time.monotonic() + _SETTINGS_TTL, found)
    return found


def forget_settings(workspace_id: int) -> None:
    _cache.pop(workspace_id, None)


def short_base(link_settings: LinkSettings) -> str:
    """Where short links live: the custom short domain, else Chorus's own address."""
    if link_settings.short_domain:
        return "https://" + link_settings.short_domain
    return django_settings.SITE_URL


def short_url(link_settings: LinkSettings, code: str) -> str:
    return f"{short_base(link_settings)}/l/{code}"


def tagged(url: str, utm: dict[str, str]) -> str:
    """`url` with the UTM parameters it does not already carry (the author's win)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _value in query}
    query += [(key, value) for key, value in utm.items() if value and key not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


def campaign_slug(campaign) -> str:
    if campaign is None:
        return ""
    defaults = CampaignLinks.objects.filter(campaign=campaign).first()
    return (defaults and defaults.utm_campaign) or slugify(campaign.name, allow_unicode=True)


def utm_for(*, post, network: str, link_settings: LinkSettings) -> dict[str, str]:
    """source = network, medium = social, campaign = the campaign's slug, content = the
    post; the composer's choices for the post, then the campaign's, then the workspace's."""
    options = PostLinks.objects.filter(post=post).first()
    campaign_defaults = (
        CampaignLinks.objects.filter(campaign_id=post.campaign_id).first()
        if post.campaign_id
        else None
    )
    medium = (
        (options and options.utm_medium)
        or (campaign_defaults and campaign_defaults.utm_medium)
        or link_settings.utm_medium
    )
    return {
        "utm_source": network,
        "utm_medium": medium,
        "utm_campaign": (options and options.utm_campaign) or campaign_slug(post.campaign),
        "utm_content": (options and options.utm_content) or f"post-{post.pk}",
    }


def _is_web_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _tracks(variant, link_settings: LinkSettings) -> bool:
    """Only posts that are going out: a claim the dispatcher refuses changes nothing."""
    post = variant.post
    if not link_settings.track_links or post.state != "scheduled" or post.needs_approval:
        return False
    options = PostLinks.objects.filter(post_id=variant.post_id).first()
    return options is None or options.track


def link_for(variant, url: str, link_settings: LinkSettings) -> ShortLink:
    """The variant's short link for `url` (made once; a retry reuses it)."""
    existing = ShortLink.objects.filter(variant=variant, original_url=url).first()
    if existing:
        return existing
    post, account = variant.post, variant.account
    utm = utm_for(post=post, network=account.provider, link_settings=link_settings)
    while True:
        code = new_code()
        if not ShortLink.objects.filter(code=code).exists():
            break
    return ShortLink.objects.create(
        workspace_id=post.workspace_id,
        code=code,
        target=tagged(url, utm),
        original_url=url,
        utm=utm,
        post=post,
        variant=variant,
        account=account,
        campaign_id=post.campaign_id,
        network=account.provider,
        post_label=(post.main_text or "")[:120],
    )


def _rewrite(text: str, network: str, replace) -> str:
    pieces, last = [], 0
    for entity in find_links(text, network):
        if not _is_web_url(entity.value):
            continue
        pieces += [text[last : entity.start], replace(entity.value)]
        last = entity.end
    return "".join(pieces) + text[last:] if pieces else text


def shorten_claimed(variants: list) -> None:
    """Before-send hook: swap each web URL of a tracked post for its short link."""
    for variant in variants:
        link_settings = settings_of(variant.post.workspace_id)
        if not _tracks(variant, link_settings):
            continue
        base = short_base(link_settings) + "/l/"

        def replace(url: str, variant=variant, base=base, link_settings=link_settings) -> str:
            if url.startswith(base):
                return url
            return short_url(link_settings, link_for(variant, url, link_settings).code)

        network = variant.account.provider
        text = _rewrite(variant.text, network, replace)
        thread = [_rewrite(part, network, replace) for part in variant.thread]
        comment = _rewrite(variant.first_comment, network, replace)
        link = replace(variant.link) if _is_web_url(variant.link) else variant.link
        if (text, thread, comment, link) == (
            variant.text,
            variant.thread,
            variant.first_comment,
            variant.link,
        ):
            continue
        variant.text, variant.thread, variant.first_comment, variant.link = (
            text,
            thread,
            comment,
            link,
        )
        variant.save(update_fields=["text", "thread", "first_comment", "link"])


def as_counted(account, text: str) -> str:
    """Counting hook: where links are tracked, each URL counts as its short URL."""
    link_settings = settings_of(account.workspace_id)
    if not link_settings.track_links or "://" not in text:
        return text
    base = short_base(link_settings) + "/l/"
    placeholder = base + "x" * CODE_LENGTH
    return _rewrite(
        text, account.provider, lambda url: url if url.startswith(base) else placeholder
    )
