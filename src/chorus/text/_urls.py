"""URL detection as X (twitter-text v3) and Mastodon (twitter-text 3.1 + its overrides) do it.

Both networks bill a detected URL at a fixed 23 characters, so what counts is detecting the
same spans they do, not validating URLs. The patterns mirror twitter-text's
``js/src/regexp`` (X) and Mastodon's ``config/initializers/twitter_regex.rb`` on top of the
Ruby gem's ``Regex`` (Mastodon); differences are noted where they are made.
"""

import functools
import re
from collections.abc import Callable

from ._tlds import COUNTRY_TLDS, GENERIC_TLDS

_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40
_URL_PROTOCOL_LENGTH = len("https://")

_INVALID = "\ufffe\ufeff\uffff"
_DIRECTIONAL = "\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"
_SPACES = "\\x09-\\x0d\\x20\\x85\\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_LATIN_ACCENTS = (
    "\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263"
    "\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_CYRILLIC = "\u0400-\u04ff"


def _lazy(pattern: str) -> Callable[[], re.Pattern[str]]:
    """Compile on first use: the TLD alternations take a few hundred ms to compile."""
    return functools.cache(lambda: re.compile(pattern, re.IGNORECASE))


def _alternation(names: frozenset[str]) -> str:
    # Longest first, so "community" is tried before "com" as in twitter-text's reverse sort.
    return "|".join(re.escape(name) for name in sorted(names, key=lambda n: (-len(n), n)))


def _tld(names: frozenset[str], tail: str) -> str:
    return f"(?:(?:{_alternation(names)})(?={tail}|$))"


_PUNYCODE = r"(?:xn--[\-0-9a-z]+)"
_PRECEDING = f"(?:[^A-Za-z0-9@＠$#＃{_INVALID}]|[{_DIRECTIONAL}]|^)"


def _domain(domain_char: str, tld_tail: str) -> str:
    subdomain = f"(?:(?:{domain_char}(?:[_-]|{domain_char})*)?{domain_char}\\.)"
    name = f"(?:(?:{domain_char}(?:-|{domain_char})*)?{domain_char}\\.)"
    tlds = f"(?:{_tld(GENERIC_TLDS, tld_tail)}|{_tld(COUNTRY_TLDS, tld_tail)}|{_PUNYCODE})"
    return f"(?:{subdomain}*{name}{tlds})"


# --- X: twitter-text v3 (JavaScript regexes, which the conformance suite pins) ---------------
# JS ``punct`` lacks '"' and '`', so those may appear in domain labels there too.
_X_DOMAIN_CHAR = f"[^!'#%&()*+,\\\\\\-./:;<=>?@\\[\\]^_{{|}}~$/{_SPACES}{_INVALID}]"
_X_PATH_CHAR = f"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~@|&{_LATIN_ACCENTS}]"
_X_PARENS = f"\\((?:{_X_PATH_CHAR}+|(?:{_X_PATH_CHAR}*\\({_X_PATH_CHAR}+\\){_X_PATH_CHAR}*))\\)"
_X_PATH_END = f"[+\\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]|(?:{_X_PARENS})"
_X_PATH = (
    f"(?:(?:{_X_PATH_CHAR}*(?:{_X_PARENS}{_X_PATH_CHAR}*)*{_X_PATH_END})|(?:@{_X_PATH_CHAR}+/))"
)
_X_QUERY = r"[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"
_X_QUERY_END = r"[a-z0-9\-_&=#/]"
# The path repetition is possessive, as in twitter-text's Java port, to bound backtracking.
_X_URL = _lazy(
    f"(?P<before>{_PRECEDING})"
    f"(?P<url>(?P<protocol>https?://)?"
    f"(?P<domain>{_domain(_X_DOMAIN_CHAR, '[^0-9a-zA-Z@+-]')})"
    f"(?::[0-9]+)?"
    f"(?P<path>/{_X_PATH}*+)?"
    f"(?:\\?{_X_QUERY}*{_X_QUERY_END})?)"
)
_X_ASCII_DOMAIN = _lazy(
    f"(?:(?:[\\-a-z0-9{_LATIN_ACCENTS}]+)\\.)+"
    f"(?:{_tld(GENERIC_TLDS, '[^0-9a-zA-Z@+-]')}|{_tld(COUNTRY_TLDS, '[^0-9a-zA-Z@+-]')}"
    f"|{_PUNYCODE})"
)
_X_DOMAIN_NAME = f"(?:(?:{_X_DOMAIN_CHAR}(?:-|{_X_DOMAIN_CHAR})*)?{_X_DOMAIN_CHAR}\\.)"
_X_SHORT_CC_DOMAIN = _lazy(f"^{_X_DOMAIN_NAME}{_tld(COUNTRY_TLDS, '[^0-9a-zA-Z@+-]')}$")
_X_SPECIAL_SHORT_DOMAIN = re.compile(
    f"^{_X_DOMAIN_NAME}(?:(?:co|tv)(?=[^0-9a-zA-Z@]|$))$", re.IGNORECASE
)
_X_NO_PROTOCOL_BAD_BEFORE = re.compile(r"[-_./]$")
_TCO = re.compile(f"^https?://t\\.co/([a-z0-9]+)(?:\\?{_X_QUERY}*{_X_QUERY_END})?", re.IGNORECASE)

# --- Mastodon: twitter-text Ruby gem, with Mastodon's overrides of path/query/protocol ------
_RB_DOMAIN_CHAR = f"[^!\"#$%&'()*+,\\-./:;<=>?@\\[\\]^_`{{|}}~\\x00-\\x20\\x7f{_INVALID}{_SPACES}]"
_UCHARS = (
    "\xa0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    "\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    "\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
_WHITE_SPACE = "\\t-\\r \\x85\\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_M_PATH_CHAR = f"[^{_WHITE_SPACE}<>()?]"
_M_PARENS = f"\\((?:{_M_PATH_CHAR}+|(?:{_M_PATH_CHAR}*\\({_M_PATH_CHAR}+\\){_M_PATH_CHAR}*))\\)"
# Mastodon interpolates the gem's original balanced-parens rule here (it is redefined after).
_M_PATH_END = f"[^{_WHITE_SPACE}()?!*\"'「」<>;:=,.$%\\[\\]~&|@]|(?:{_X_PARENS})"
_M_PATH = (
    f"(?:(?:{_M_PATH_CHAR}*(?:{_M_PARENS}{_M_PATH_CHAR}*)*{_M_PATH_END})|(?:{_M_PATH_CHAR}+/))"
)
_M_QUERY = f"[a-z0-9!?*'();:&=+$/%#\\[\\]\\-_.,~|@\\^{_UCHARS}]"
_M_QUERY_END = f"[a-z0-9_&=#/\\-{_UCHARS}]"
_MASTODON_URL = _lazy(
    f"(?P<before>{_PRECEDING})"
    f"(?P<url>(?P<protocol>(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://)?"
    f"(?P<domain>{_domain(_RB_DOMAIN_CHAR, '[^0-9a-z@+-]')})"
    f"(?::[0-9]+)?"
    f"(?P<path>/{_M_PATH}*+)?"
    f"(?:\\?{_M_QUERY}*{_M_QUERY_END})?)"
)


def _domain_fits(url_length: int, domain: str, has_protocol: bool) -> bool:
    """twitter-text's length check: the punycoded URL must stay within 4096 characters."""
    try:
        encoded = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    url_length += max(0, len(encoded) - len(domain))
    if not has_protocol:
        url_length += _URL_PROTOCOL_LENGTH
    return url_length <= _MAX_URL_LENGTH


def _tco_end(url: str, start: int, end: int) -> int | None:
    """t.co links take no extra path; None when the slug is too long to be one."""
    match = _TCO.match(url)
    if match is None:
        return end
    if len(match.group(1)) > _MAX_TCO_SLUG_LENGTH:
        return None
    return start + match.end()


def x_urls(text: str) -> list[tuple[int, int]]:
    """Spans of URLs X bills at 23, including bare domains such as ``example.com``."""
    if "." not in text:
        return []
    spans = []
    for match in _X_URL().finditer(text):
        start, end = match.span("url")
        domain = match.group("domain")
        if match.group("protocol") is None:
            if _X_NO_PROTOCOL_BAD_BEFORE.search(match.group("before")):
                continue
            if not _domain_fits(end - start, domain, has_protocol=False):
                continue
            path = match.group("path")
            domain_start = match.start("domain")
            found = []
            for ascii_match in _X_ASCII_DOMAIN().finditer(domain):
                candidate = ascii_match.group()
                span = [domain_start + ascii_match.start(), domain_start + ascii_match.end()]
                found.append(span)
                if (
                    path
                    or _X_SPECIAL_SHORT_DOMAIN.match(candidate)
                    or not _X_SHORT_CC_DOMAIN().match(candidate)
                ):
                    spans.append(span)
            if found and path:
                found[-1][1] = end
            continue
        if not _domain_fits(end - start, domain, has_protocol=True):
            continue
        tco_end = _tco_end(match.group("url"), start, end)
        if tco_end is not None:
            spans.append([start, tco_end])
    return [(start, end) for start, end in spans]


def mastodon_urls(text: str) -> list[tuple[int, int]]:
    """Spans of URLs Mastodon bills at 23: only those written with a protocol."""
    if ":" not in text:
        return []
    spans = []
    for match in _MASTODON_URL().finditer(text):
        if match.group("protocol") is None:
            continue
        start, end = match.span("url")
        tco_end = _tco_end(match.group("url"), start, end)
        if tco_end is None or not _domain_fits(tco_end - start, match.group("domain"), True):
            continue
        spans.append((start, tco_end))
    return spans


def is_listed_tld(label: str) -> bool:
    """True when ``label`` is an IANA top-level domain (compared as written, like Bluesky)."""
    return label in GENERIC_TLDS or label in COUNTRY_TLDS
