"""The networks the emulator speaks, one entry each: how to get a signed-in account there,
how to revoke it, how to script a fault on its publish call and how to tell its posts in
the emulator's event log. The dispatcher benchmark and the reliability tests run a mix of
every entry; adding a network to them is adding its `EmulatorNetwork` to `NETWORKS`.

Accounts are made through the emulator's control endpoints (`/_emulator/<network>/account`:
a person who has already allowed the app) or, where the network needs nothing more than a
token, minted outright, so a thousand accounts cost a thousand cheap calls at most. What a
provider then does with them is the real protocol, unchanged.

Fault steps are written once, network-neutral: `{"status": 429, "retry_after": 2,
"times": 30}` (rate limited), `{"status": 503, "times": 30}` (a passing failure), with
`after_commit` (the post is made, the answer lost) and `delay_s` (the answer stalls) where
the network's script has them. Each entry turns them into its own network's words: an HTTP
429 with Retry-After for Mastodon, Bluesky, Telegram and X; Meta's Business Use Case
throttle (code 80001/80002 and X-Business-Use-Case-Usage) for Pages, Instagram and Threads;
LinkedIn's `{status, message}` refusal and TikTok's v2 envelope (`rate_limit_exceeded`,
`internal_error`) for those two. Neither LinkedIn nor TikTok documents how long a 429
lasts (LinkedIn's limits are daily, TikTok's a one-minute sliding window), so their steps
state the wait in the standard Retry-After header, which both connectors honour first.

TikTok posts are photos pulled from Chorus (PULL_FROM_URL: the emulator fetches each from
the site address, as Instagram's does), by an audited app, so they are public and a post
whose answer was lost shows in the account's video list.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from chorus.networks.providers.base import Credentials
from chorus.testing.emulator_bluesky import mint_bluesky_session
from chorus.testing.emulator_meta import APP_ID, APP_SECRET, meta_settings

Step = dict[str, Any]


@dataclass(frozen=True)
class Account:
    """One account as `SocialAccount` stores it."""

    remote_id: str
    handle: str
    credentials: Credentials


@dataclass(frozen=True)
class EmulatorNetwork:
    provider: str  # the registry key (chorus.networks.providers)
    log_name: str  # `network` of its posts in the emulator's event log
    account: Callable[[httpx.Client, str, int, str], Account]  # (http, base_url, i, label)
    revoke_key: Callable[[Credentials], str]  # what the emulator's `revoke` takes
    fault_channel: str  # "" the emulator's own script; else "meta", "threads", "linkedin"...
    fault: Callable[[Step], dict[str, Any]]  # a neutral step in this network's script
    environment: Callable[[str], dict[str, str]] = lambda base_url: {}
    needs_media: bool = False  # its posts carry a photo (Instagram takes no text-only post)
    # False: after an uncertain outcome it cannot always tell "not posted" (Telegram's Bot
    # API), so such a post fails visibly for a person to check rather than going out twice
    confirms_absence: bool = True
    log_account: Callable[[Account], str] = field(default=lambda a: a.remote_id)


def _control(http: httpx.Client, base_url: str, path: str, **body: Any) -> dict[str, Any]:
    answer = http.post(f"{base_url}/_emulator/{path}", json=body)
    answer.raise_for_status()
    return answer.json()


# --------------------------------------------------------------------------- accounts


def _mastodon(http: httpx.Client, base_url: str, i: int, label: str) -> Account:
    name = f"{label}{i}"
    identity = {"server_url": base_url, "client_id": "load", "account_id": name, "acct": name}
    secrets = {"access_token": f"token-{label}-{i}", "client_secret": "load"}
    return Account(name, name, Credentials(identity, secrets))


def _bluesky(http: httpx.Client, base_url: str, i: int, label: str) -> Account:
    handle = f"{label}{i}.test"
    session = mint_bluesky_session(handle, ttl_s=86400.0)
    identity = {"did": session["did"], "handle": handle, "pds_url": base_url}
    identity["plc_url"] = base_url
    secrets = {"accessJwt": session["accessJwt"], "refreshJwt": session["refreshJwt"]}
    return Account(session["did"], handle, Credentials(identity, secrets))


def _telegram(http: httpx.Client, base_url: str, i: int, label: str) -> Account:
    from chorus.networks.providers.telegram import Telegram

    token = f"{7_000_000 + i}:{label}-bot"
    credentials = Telegram.sign_in(f"@{label}{i}", token, service_url=base_url, http=http)
    return Account(str(credentials.identity["chat_id"]), f"{label}{i}", credentials)


def _x(http: httpx.Client, base_url: str, i: int, label: str) -> Account:
    made = _control(http, base_url, "x/account", username=f"{label}_{i}")
    identity = {"api_url": base_url, "user_id": made["user_id"], "username": made["username"]}
    secrets = {
        "access_token": made["token"],
        "refresh_token": "",
        "expires_at": str(int(time.time()) + 29 * 86400),
        "client_id": "",
    }
    return Account(made["user_id"], made["username"], Credentials(identity, secrets))


def _linkedin(http: httpx.Client, base_url: str, i: int, label: str) -> Account:
    made = _control(http, base_url, "linkedin/account", name=f"{label} member {i}")
    urn = f"urn:li:person:{made['sub']}"
    url = f"{base_url}/linkedin"
    identity = {"api_url": url, "auth_url": url, "member": urn, "author": urn}
    secrets = {
        "access_token": made["access_token"],
        "expires_at": str(int(time.time()) + int(made["expires_in"])),
        "scope": made["scope"].replace(",", " "),
    }
    return Account(urn, made["name"], Credentials(identity, secrets))


def _tiktok(http: httpx.Client, base_url: str, i: int, label: str) -> Account:
    made = _control(http, base_url, "tiktok/account", username=f"{label}_{i}")
    # the installation's app is audited (CHORUS_TIKTOK_AUDITED in `_env_tiktok`)
    _control(http, base_url, "tiktok/configure", audited=True)
    identity = {
        "open_id": made["open_id"],
        "username": made["username"],
        "api_url": f"{base_url}/tiktok",
    }
    secrets = {
        "access_token": made["access_token"],
        "refresh_token": "",
        "expires_at": str(int(time.time()) + int(made["expires_in"])),
        "refresh_expires_at": "",
    }
    return Account(made["open_id"], made["username"], Credentials(identity, secrets))


def _meta(kind: str) -> Callable[[httpx.Client, str, int, str], Account]:
    def make(http: httpx.Client, base_url: str, i: int, label: str) -> Account:
        spec: dict[str, Any] = {"name": f"{label} page {i}"}
        if kind == "instagram":
            spec["instagram"] = {"username": f"{label}.{i}"}
        made = _control(http, base_url, "meta/account", **spec)
        identity = {"graph_url": base_url, "video_url": base_url, "page_id": made["page"]}
        secrets = {"access_token": made["token"]}
        if kind == "facebook":
            identity["name"] = spec["name"]
            return Account(made["page"], spec["name"], Credentials(identity, secrets))
        identity |= {"ig_user_id": made["ig"], "username": spec["instagram"]["username"]}
        return Account(made["ig"], identity["username"], Credentials(identity, secrets))

    return make


def _threads(http: httpx.Client, base_url: str, i: int, label: str) -> Account:
    made = _control(http, base_url, "threads/account", username=f"{label}_{i}")
    identity = {
        "user_id": made["user_id"],
        "username": made["username"],
        "graph_url": f"{base_url}/threads",
    }
    secrets = {"access_token": made["token"], "expires_at": str(int(time.time()) + 50 * 86400)}
    return Account(made["user_id"], made["username"], Credentials(identity, secrets))


# --------------------------------------------------------------------------- faults


def _http_fault(route: str) -> Callable[[Step], dict[str, Any]]:
    """A step of the emulator's own script, on this network's publish route."""
    return lambda step: {"route": route, **step}


def _graph_fault(route: str, throttle_code: int) -> Callable[[Step], dict[str, Any]]:
    """A step of Meta's script: rate limits as the Business Use Case throttle with the time
    to regain access (developers.facebook.com/docs/graph-api/overview/rate-limiting; minutes,
    fractions allowed so a test waits seconds), anything else as a transient Graph error."""

    def translate(step: Step) -> dict[str, Any]:
        common = {"route": route, "times": step.get("times", 1)}
        common["after_commit"] = bool(step.get("after_commit"))
        if step.get("status") == 429:
            minutes = float(step.get("retry_after") or 60) / 60
            usage = {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 30,
                "estimated_time_to_regain_access": minutes,
            }
            header = json.dumps({"emulated": [usage]})
            return {
                **common,
                "status": 400,
                "code": throttle_code,
                "message": "There have been too many calls from this account.",
                "headers": {"X-Business-Use-Case-Usage": header},
            }
        common["delay_s"] = float(step.get("delay_s") or 0)
        return {**common, "status": int(step.get("status") or 0), "code": 2}

    return translate


def _linkedin_fault(step: Step) -> dict[str, Any]:
    """learn.microsoft.com/linkedin/shared/api-guide/concepts/rate-limits (429) and
    .../error-handling (`{status, message}`), on `POST /rest/posts`."""
    return {"route": "linkedin.posts.create", **step}


def _tiktok_fault(step: Step) -> dict[str, Any]:
    """developers.tiktok.com/doc/tiktok-api-v2-rate-limit (429 rate_limit_exceeded) and
    .../tiktok-api-v2-error-handling (internal_error), on the photo post's init."""
    code = "rate_limit_exceeded" if step.get("status") == 429 else "internal_error"
    return {"route": "content.init", "code": code, **step}


def _env_linkedin(base_url: str) -> dict[str, str]:
    return {
        "CHORUS_LINKEDIN_CLIENT_ID": "chorus-load",
        "CHORUS_LINKEDIN_CLIENT_SECRET": "s3cret",
        "CHORUS_LINKEDIN_API_URL": f"{base_url}/linkedin",
        "CHORUS_LINKEDIN_AUTH_URL": f"{base_url}/linkedin",
    }


def _env_tiktok(base_url: str) -> dict[str, str]:
    return {
        "CHORUS_TIKTOK_CLIENT_KEY": "chorus-load",
        "CHORUS_TIKTOK_CLIENT_SECRET": "chorus-load-secret",
        "CHORUS_TIKTOK_AUDITED": "1",
        "CHORUS_TIKTOK_API_URL": f"{base_url}/tiktok",
        "CHORUS_TIKTOK_AUTH_URL": f"{base_url}/tiktok",
    }


def _env_x(base_url: str) -> dict[str, str]:
    return {
        "CHORUS_X_CLIENT_ID": "chorus-load",
        "CHORUS_X_CLIENT_SECRET": "chorus-load-secret",
        "CHORUS_X_API_URL": base_url,
    }


def _env_threads(base_url: str) -> dict[str, str]:
    return {
        "CHORUS_THREADS_APP_ID": APP_ID,
        "CHORUS_THREADS_APP_SECRET": APP_SECRET,
        "CHORUS_THREADS_GRAPH_URL": f"{base_url}/threads",
        "CHORUS_THREADS_AUTH_URL": f"{base_url}/threads",
    }


def _token(credentials: Credentials) -> str:
    return credentials.secrets["access_token"]


NETWORKS: dict[str, EmulatorNetwork] = {
    n.provider: n
    for n in (
        EmulatorNetwork(
            "mastodon",
            "mastodon",
            _mastodon,
            _token,
            "",
            _http_fault("mastodon.statuses.create"),
            log_account=lambda a: _token(a.credentials),
        ),
        EmulatorNetwork(
            "bluesky",
            "bluesky",
            _bluesky,
            lambda c: c.identity["did"],
            "",
            _http_fault("com.atproto.repo.createRecord"),
        ),
        EmulatorNetwork(
            "telegram",
            "telegram",
            _telegram,
            lambda c: c.secrets["bot_token"],
            "",
            _http_fault("telegram.sendMessage"),
            log_account=lambda a: a.credentials.secrets["bot_token"],
            confirms_absence=False,
        ),
        EmulatorNetwork(
            "facebook",
            "meta",
            _meta("facebook"),
            _token,
            "meta",
            _graph_fault("meta.feed", 80001),
            environment=meta_settings,
        ),
        EmulatorNetwork(
            "instagram",
            "meta",
            _meta("instagram"),
            _token,
            "meta",
            _graph_fault("meta.media_publish", 80002),
            environment=meta_settings,
            needs_media=True,
        ),
        EmulatorNetwork(
            "x",
            "x",
            _x,
            lambda c: c.identity["username"],
            "",
            _http_fault("x.tweets.create"),
            environment=_env_x,
            log_account=lambda a: a.handle,
        ),
        EmulatorNetwork(
            "threads",
            "threads",
            _threads,
            _token,
            "threads",
            _graph_fault("threads.publish", 4),
            environment=_env_threads,
            log_account=lambda a: a.handle,
        ),
        EmulatorNetwork(
            "linkedin",
            "linkedin",
            _linkedin,
            _token,
            "linkedin",
            _linkedin_fault,
            environment=_env_linkedin,
        ),
        EmulatorNetwork(
            "tiktok",
            "tiktok",
            _tiktok,
            _token,
            "tiktok",
            _tiktok_fault,
            environment=_env_tiktok,
            needs_media=True,
            log_account=lambda a: a.handle,
        ),
    )
}


def environment(base_url: str, providers: Iterable[str] = NETWORKS) -> dict[str, str]:
    """Settings (environment variables) that point every network's app at the emulator."""
    found: dict[str, str] = {}
    for key in providers:
        found |= NETWORKS[key].environment(base_url)
    return found


def apply_settings(settings: Any, base_url: str) -> None:
    """The same for a running Django (pytest-django's `settings`, or django.conf.settings)."""
    env = environment(base_url)
    for name in ("CHORUS_META_APP_ID", "CHORUS_META_APP_SECRET", "CHORUS_META_GRAPH_URL"):
        setattr(settings, name, env[name])
    settings.CHORUS_META_VIDEO_URL = env["CHORUS_META_VIDEO_URL"]
    settings.CHORUS_META_DIALOG_URL = env["CHORUS_META_DIALOG_URL"]
    options = {key: dict(value) for key, value in settings.CHORUS_NETWORK_OPTIONS.items()}
    options["x"] = {
        "client_id": env["CHORUS_X_CLIENT_ID"],
        "client_secret": env["CHORUS_X_CLIENT_SECRET"],
        "api_url": env["CHORUS_X_API_URL"],
    }
    options["threads"] = {
        "app_id": env["CHORUS_THREADS_APP_ID"],
        "app_secret": env["CHORUS_THREADS_APP_SECRET"],
        "graph_url": env["CHORUS_THREADS_GRAPH_URL"],
        "auth_url": env["CHORUS_THREADS_AUTH_URL"],
    }
    options["linkedin"] = {
        "client_id": env["CHORUS_LINKEDIN_CLIENT_ID"],
        "client_secret": env["CHORUS_LINKEDIN_CLIENT_SECRET"],
        "api_url": env["CHORUS_LINKEDIN_API_URL"],
        "auth_url": env["CHORUS_LINKEDIN_AUTH_URL"],
    }
    options["tiktok"] = {
        "client_key": env["CHORUS_TIKTOK_CLIENT_KEY"],
        "client_secret": env["CHORUS_TIKTOK_CLIENT_SECRET"],
        "audited": env["CHORUS_TIKTOK_AUDITED"],
        "api_url": env["CHORUS_TIKTOK_API_URL"],
        "auth_url": env["CHORUS_TIKTOK_AUTH_URL"],
    }
    settings.CHORUS_NETWORK_OPTIONS = options


def configure_faults(base_url: str, steps: dict[str, list[Step]]) -> None:
    """Script the given neutral steps per network (`{"x": [...], "threads": [...]}`); every
    network not named is left without faults."""
    by_channel: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for provider, provider_steps in steps.items():
        network = NETWORKS[provider]
        by_channel[network.fault_channel] += [network.fault(step) for step in provider_steps]
    with httpx.Client(timeout=10) as http:
        _control(http, base_url, "configure", faults=by_channel[""])
        for channel in ("meta", "threads", "linkedin", "tiktok"):
            _control(http, base_url, f"{channel}/configure", faults=by_channel[channel])


# --------------------------------------------------------------------------- the log


def marker(n: int) -> str:
    """How load post number `n` begins (its text identifies it in the event log)."""
    return f"Load post {n} "


def post_number(text: str) -> int | None:
    words = text.split(" ", 3)
    if len(words) < 3 or words[:2] != ["Load", "post"] or not words[2].isdigit():
        return None
    return int(words[2])


@dataclass
class Tally:
    """Posts the emulator received for one network: load post number -> receipt times."""

    received: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))

    @property
    def duplicates(self) -> int:
        return sum(len(times) - 1 for times in self.received.values())

    def receipts(self) -> list[tuple[int, float]]:
        return [(n, at) for n, times in self.received.items() for at in times]


def tally(events: list[dict[str, Any]], network_of_account: dict[tuple[str, str], str]) -> dict:
    """Each network's load posts in the event log; `network_of_account` maps the log's
    (network, account) to the provider key, which tells Pages from Instagram accounts."""
    found: dict[str, Tally] = defaultdict(Tally)
    for event in events:
        number = post_number(str(event.get("text") or ""))
        provider = network_of_account.get((event["network"], str(event["account"])))
        if number is not None and provider is not None:
            found[provider].received[number].append(float(event["received_at"]))
    return found
