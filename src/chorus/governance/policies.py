"""Checking text against compliance policies: pure functions, no database writes.

Terms match on ICU word boundaries through `chorus.text.TermMatcher`, so a banned Thai or
Khmer word is found inside an unspaced sentence, but not inside a longer word that merely
contains its letters. Patterns are regular expressions (the `regex` module, with a time
limit, since an administrator could write one that backtracks badly). Links are found as
Bluesky and Mastodon would link them, and compared by domain, subdomains included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import regex
from django.utils.translation import gettext as _

from chorus.governance.models import Policy, PolicyKind
from chorus.text import NETWORKS, TermMatcher, find_links

PATTERN_TIMEOUT_SECONDS = 0.25
PATTERN_FLAGS = regex.IGNORECASE | regex.UNICODE | regex.V1

_DOMAIN = regex.compile(
    r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))+$"
)


@dataclass(frozen=True)
class Violation:
    """One broken rule; `spans` are (start, end) offsets into the checked text."""

    policy: Policy
    kind: str
    message: str
    action: str
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def blocks(self) -> bool:
        return self.action == "block"


def normalize_domain(value: str) -> str:
    """`Example.COM`, `https://example.com/x` or `ตัวอย่าง.ไทย` → the ASCII (IDNA) domain.

    Raises ValueError when it is not a domain.
    """
    text = value.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.removeprefix("*.").rstrip(".")
    try:
        ascii_domain = text.encode("idna").decode("ascii")
    except (UnicodeError, ValueError) as exc:
        raise ValueError(value) from exc
    if not _DOMAIN.match(ascii_domain):
        raise ValueError(value)
    return ascii_domain


def compile_pattern(pattern: str):
    """Raises regex.error for an invalid expression."""
    return regex.compile(pattern, PATTERN_FLAGS)


def _host_of(url: str) -> str:
    try:
        host = urlsplit(url if "://" in url else f"https://{url}").hostname or ""
        return normalize_domain(host) if host else ""
    except ValueError:
        return ""


def _covered(host: str, domains: list[str]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def _links_in(text: str) -> list[tuple[int, int, str]]:
    """Links either network would make of `text`: (start, end, url), each span once."""
    seen: dict[tuple[int, int], str] = {}
    for network in NETWORKS:
        for entity in find_links(text, network):
            seen.setdefault((entity.start, entity.end), entity.value)
    return sorted((start, end, url) for (start, end), url in seen.items())


def _check_terms(policy: Policy, text: str) -> Violation | None:
    spans: list[tuple[int, int]] = []
    found: list[str] = []
    if policy.terms:
        for match in TermMatcher(policy.terms).find(text):
            spans.append((match.start, match.end))
            found.append(match.text)
    for pattern in policy.patterns:
        try:
            for match in compile_pattern(pattern).finditer(text, timeout=PATTERN_TIMEOUT_SECONDS):
                if match.end() > match.start():
                    spans.append((match.start(), match.end()))
                    found.append(match.group())
        except (regex.error, TimeoutError):
            continue
    if not spans:
        return None
    unique = list(dict.fromkeys(found))
    return Violation(
        policy=policy,
        kind=policy.kind,
        action=policy.action,
        spans=sorted(set(spans)),
        message=_("Banned by “%(policy)s”: %(terms)s")
        % {"policy": policy.name, "terms": ", ".join(unique)},
    )


def _check_disclaimer(policy: Policy, text: str) -> Violation | None:
    disclaimer = policy.disclaimer.strip()
    if not disclaimer or TermMatcher([disclaimer]).find(text):
        return None
    return Violation(
        policy=policy,
        kind=policy.kind,
        action=policy.action,
        message=_("“%(policy)s” requires this disclaimer: %(text)s")
        % {"policy": policy.name, "text": disclaimer},
    )


def _check_links(policy: Policy, text: str, extra_links: list[str]) -> Violation | None:
    allow = policy.kind == PolicyKind.LINK_ALLOW
    spans: list[tuple[int, int]] = []
    bad_hosts: list[str] = []
    candidates = [(start, end, url) for start, end, url in _links_in(text)]
    candidates += [(None, None, url) for url in extra_links]
    for start, end, url in candidates:
        host = _host_of(url)
        if not host:
            continue
        if _covered(host, policy.domains) != allow:
            bad_hosts.append(host)
            if start is not None:
                spans.append((start, end))
    if not bad_hosts:
        return None
    hosts = ", ".join(dict.fromkeys(bad_hosts))
    if allow:
        message = _("“%(policy)s” only allows links to %(allowed)s; found %(hosts)s") % {
            "policy": policy.name,
            "allowed": ", ".join(policy.domains),
            "hosts": hosts,
        }
    else:
        message = _("“%(policy)s” does not allow links to %(hosts)s") % {
            "policy": policy.name,
            "hosts": hosts,
        }
    return Violation(
        policy=policy, kind=policy.kind, action=policy.action, spans=spans, message=message
    )


def evaluate(policy: Policy, text: str, links: list[str] | None = None) -> Violation | None:
    if policy.kind == PolicyKind.BANNED_TERMS:
        return _check_terms(policy, text)
    if policy.kind == PolicyKind.DISCLAIMER:
        return _check_disclaimer(policy, text)
    if policy.kind in {PolicyKind.LINK_ALLOW, PolicyKind.LINK_DENY}:
        return _check_links(policy, text, links or [])
    return None


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool


def highlight(text: str, violations: list[Violation]) -> list[Segment]:
    """`text` cut into plain and marked pieces (overlapping spans merged) for templates."""
    spans = sorted(span for violation in violations for span in violation.spans)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    segments: list[Segment] = []
    cursor = 0
    for start, end in merged:
        if start > cursor:
            segments.append(Segment(text[cursor:start], False))
        segments.append(Segment(text[start:end], True))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:], False))
    return segments
