"""Each network's rules applied to a variant, counted the way that network counts.

The composer calls this live as the author types; scheduling and the dispatcher call it
again, so nothing that a network would refuse is ever scheduled. Given the account, the
limits are its own server's (`networks.selectors.account_limits`), not only the network's
documented defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from chorus.networks.models import SocialAccount
from chorus.networks.providers import get_provider
from chorus.networks.providers.base import Limits
from chorus.networks.selectors import account_limits
from chorus.publishing import hooks
from chorus.text import check_length
from chorus.text.counting import URL_LENGTH, utf8_length
from chorus.text.language import known_languages


@dataclass(frozen=True)
class Problem:
    field: str  # "text", "thread.1", "media", "poll", "content_warning"...
    message: str


@dataclass(frozen=True)
class PartLength:
    count: int
    limit: int
    remaining: int
    over: bool


@dataclass(frozen=True)
class MediaInfo:
    mime_type: str
    size: int
    alt_text: str = ""


def limits_for(provider_key: str, account: SocialAccount | None = None) -> Limits:
    """The limits to check against: the account's own server's where Chorus has read them
    (a Mastodon server may allow 5,000 characters), else the network's documented ones."""
    if account is not None:
        return account_limits(account)
    return get_provider(provider_key).limits


def part_lengths(
    provider_key: str,
    parts: list[str],
    *,
    account: SocialAccount | None = None,
    content_warning: str = "",
    warned: int | None = None,
    with_media: bool = False,
) -> list[PartLength]:
    """Each part's length; the first `warned` parts (all by default) carry the content
    warning, which Mastodon counts together with the text. `with_media`: the first part is
    a caption, which some networks limit further."""
    limits = limits_for(provider_key, account)
    warned = len(parts) if warned is None else warned
    checks = [
        check_length(
            hooks.as_counted(account, text),
            limits.text_counting,
            _text_limit(limits, "text" if i == 0 else "", with_media),
            content_warning=content_warning if i < warned else "",
            url_length=limits.url_length or URL_LENGTH,
        )
        for i, text in enumerate(parts)
    ]
    return [PartLength(c.count, c.limit, c.remaining, c.over) for c in checks]


def check_variant(
    *,
    provider_key: str,
    text: str,
    thread: list[str] = (),
    first_comment: str = "",
    link: str = "",
    content_warning: str = "",
    poll: dict | None = None,
    media: list[MediaInfo] = (),
    account: SocialAccount | None = None,
    language: str = "",
) -> list[Problem]:
    """Everything this network (the account's own server, when given) would refuse about
    the variant, in plain words."""
    limits = limits_for(provider_key, account)
    name = get_provider(provider_key).name
    problems: list[Problem] = []
    parts = [("text", text)] + [(f"thread.{i + 1}", t) for i, t in enumerate(thread)]
    if first_comment:
        parts.append(("first_comment", first_comment))
    if not text.strip() and not media:
        problems.append(Problem("text", _("Write something or add an image.")))
    if thread and not limits.supports_threads:
        problems.append(Problem("thread", _("%(net)s has no threads.") % {"net": name}))
    if first_comment and not limits.supports_first_comment:
        problems.append(
            Problem(
                "first_comment",
                _(
                    "%(network)s has no comments that apps can write: this first comment "
                    "would not be posted."
                )
                % {"network": name},
            )
        )
    warning = content_warning if limits.supports_content_warning else ""
    for field_name, part in parts:
        check = check_length(
            hooks.as_counted(account, part),
            limits.text_counting,
            _text_limit(limits, field_name, media),
            content_warning="" if field_name == "first_comment" else warning,
            url_length=limits.url_length or URL_LENGTH,
        )
        size = utf8_length(part)
        if limits.max_text_bytes and size > limits.max_text_bytes:
            problems.append(
                Problem(
                    field_name,
                    _("%(size)s bytes of text on %(net)s, which takes at most %(limit)s.")
                    % {"size": size, "net": name, "limit": limits.max_text_bytes},
                )
            )
        if check.over:
            problems.append(
                Problem(
                    field_name,
                    _("%(count)s of %(limit)s characters on %(net)s: %(over)s too many.")
                    % {
                        "count": check.count,
                        "limit": check.limit,
                        "net": name,
                        "over": -check.remaining,
                    },
                )
            )
    if content_warning and not limits.supports_content_warning:
        problems.append(
            Problem("content_warning", _("%(net)s has no content warnings.") % {"net": name})
        )
    if language and language not in known_languages():
        problems.append(
            Problem(
                "language",
                _("“%(code)s” is not a language code Chorus knows.") % {"code": language},
            )
        )
    problems += _check_poll(limits, name, poll, media)
    problems += _check_media(limits, name, media)
    if link and not link.startswith(("http://", "https://")):
        problems.append(Problem("link", _("A link must start with http:// or https://.")))
    return problems


def _text_limit(limits: Limits, field_name: str, media) -> int:
    """The first part's text becomes the caption when media goes with it (Telegram: 1,024
    characters against 4,096 for a message)."""
    if field_name == "text" and media and limits.max_caption:
        return min(limits.max_caption, limits.max_text)
    return limits.max_text


def _check_poll(limits: Limits, name: str, poll: dict | None, media) -> list[Problem]:
    if not poll:
        return []
    options = [o for o in poll.get("options", []) if o.strip()]
    if not limits.supports_polls:
        return [Problem("poll", _("%(net)s has no polls.") % {"net": name})]
    problems = []
    if not 2 <= len(options) <= limits.max_poll_options:
        problems.append(
            Problem("poll", _("A poll needs 2 to %(n)s options.") % {"n": limits.max_poll_options})
        )
    if limits.max_poll_option_length and any(
        len(o) > limits.max_poll_option_length for o in options
    ):
        problems.append(
            Problem(
                "poll",
                _("Each poll option may have at most %(n)s characters.")
                % {"n": limits.max_poll_option_length},
            )
        )
    if media:
        problems.append(Problem("poll", _("A post cannot carry both a poll and media.")))
    return problems


def _check_media(limits: Limits, name: str, media) -> list[Problem]:
    problems = []
    if limits.requires_media and not media:
        problems.append(
            Problem("media", _("%(net)s posts need a photo or a video.") % {"net": name})
        )
    if len(media) > limits.max_media:
        problems.append(
            Problem(
                "media",
                _("%(net)s takes at most %(n)s attachments.")
                % {"net": name, "n": limits.max_media},
            )
        )
    for item in media:
        if item.mime_type not in limits.media_types:
            problems.append(
                Problem(
                    "media",
                    _("%(net)s does not take %(type)s files.")
                    % {"net": name, "type": item.mime_type},
                )
            )
            continue
        biggest = (
            limits.max_video_bytes
            if item.mime_type.startswith("video/")
            else (limits.max_image_bytes)
        )
        if biggest and item.size > biggest:
            problems.append(
                Problem(
                    "media",
                    _("A file is %(size)s MB; %(net)s takes at most %(max)s MB.")
                    % {
                        "size": round(item.size / 1e6, 1),
                        "net": name,
                        "max": round(biggest / 1e6, 1),
                    },
                )
            )
        if limits.max_alt_text and len(item.alt_text) > limits.max_alt_text:
            problems.append(
                Problem(
                    "media",
                    _("Alt text may have at most %(n)s characters on %(net)s.")
                    % {"n": limits.max_alt_text, "net": name},
                )
            )
    return problems
