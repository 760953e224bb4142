"""Configuration read from the environment, with safe defaults and clear errors.

Every problem raises `ConfigError` naming the setting to fix; the `chorus` command
prints that message alone instead of a stack trace.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url


class ConfigError(Exception):
    """A setting is wrong; the message names it and says how to fix it."""


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if not raw:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use true or false.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env(name)
    return [item.strip() for item in raw.split(",") if item.strip()] if raw else default


def site_url(name: str, default: str) -> str:
    """The public address links are built on: scheme and host, no trailing slash."""
    raw = env(name) or default
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(
            f"{name}={raw!r} is not a site address: use e.g. https://chorus.example.org."
        )
    return raw.rstrip("/")


def server_budgets(name: str) -> dict[str, tuple[int, int] | None]:
    """Per-network overrides of server budgets: `bluesky=2700/300,mastodon=off`.

    Each is requests per window in seconds, shared by every account on one server;
    `off` removes the network's default.
    """
    budgets: dict[str, tuple[int, int] | None] = {}
    for item in env_list(name, []):
        network, _, value = item.partition("=")
        requests, _, seconds = value.strip().partition("/")
        if value.strip().lower() == "off":
            budgets[network.strip()] = None
        elif requests.strip().isdigit() and seconds.strip().isdigit() and int(seconds) > 0:
            budgets[network.strip()] = (int(requests), int(seconds))
        else:
            raise ConfigError(
                f"{name}: {item!r} is not network=REQUESTS/SECONDS or network=off "
                "(e.g. bluesky=2700/300)."
            )
    return budgets


def outbound_allow(name: str) -> list[str]:
    """Exceptions to the outbound guard (chorus.core.egress): `127.0.0.1:8765,10.1.0.0/16`."""
    from chorus.core.egress import AllowEntry

    entries = env_list(name, [])
    for entry in entries:
        try:
            AllowEntry.parse(entry)
        except ValueError as exc:
            raise ConfigError(
                f"{name}: {entry!r} is not an IP address, network, host[:port] or URL "
                "(e.g. 127.0.0.1:8765 or http://127.0.0.1:8765)."
            ) from exc
    return entries


def data_dir() -> Path:
    """Where the embedded database, queue and secret key live (CHORUS_DATA_DIR)."""
    path = Path(env("CHORUS_DATA_DIR") or Path.cwd() / "data").expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"CHORUS_DATA_DIR={path} cannot be created: {exc.strerror}.") from exc
    return path


def secret_key(directory: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data dir."""
    given = env("SECRET_KEY")
    if given:
        return given
    key_file = directory / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def encryption_keys(directory: Path) -> list[str]:
    """Fernet keys, newest first: CHORUS_ENCRYPTION_KEYS, else one kept in the data dir."""
    from cryptography.fernet import Fernet

    given = env_list("CHORUS_ENCRYPTION_KEYS", [])
    if given:
        for key in given:
            try:
                Fernet(key.encode())
            except ValueError as exc:
                raise ConfigError(
                    "CHORUS_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64 bytes), "
                    "comma-separated, newest first."
                ) from exc
        return given
    key_file = directory / "encryption_key"
    if key_file.exists():
        return [key_file.read_text().strip()]
    key = Fernet.generate_key().decode()
    key_file.write_text(key)
    key_file.chmod(0o600)
    return [key]


def database(directory: Path) -> dict:
    """DATABASE_URL parsed; the default is SQLite in the data dir, tuned for a web + worker."""
    url = env("DATABASE_URL") or f"sqlite:///{directory / 'chorus.sqlite3'}"
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except (ValueError, KeyError) as exc:
        raise ConfigError(
            f"DATABASE_URL={redact_url(url)} is not understood ({exc}). "
            "Use postgres://user:password@host:5432/name or sqlite:///path/to/file."
        ) from exc
    engine = config["ENGINE"]
    if engine.endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
        }
        # The test database is a file, so processes the tests start (dispatchers) share it.
        config.setdefault("TEST", {})["NAME"] = env("CHORUS_TEST_SQLITE_NAME") or str(
            directory / "test.sqlite3"
        )
    elif not engine.endswith("postgresql"):
        raise ConfigError(
            f"DATABASE_URL={redact_url(url)}: Chorus runs on PostgreSQL or SQLite only."
        )
    else:
        config.setdefault("OPTIONS", {})["connect_timeout"] = 5
    return config


def redact_url(url: str) -> str:
    """The URL with its password replaced, safe to print."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def queue(directory: Path) -> dict:
    """Huey settings from CHORUS_QUEUE_URL: embedded SQLite by default, Redis to scale out."""
    url = env("CHORUS_QUEUE_URL") or f"sqlite:///{directory / 'queue.sqlite3'}"
    scheme = urlsplit(url).scheme
    common = {"name": "chorus", "immediate": False, "utc": True}
    # An idle worker looks at the queue at least every second (Huey's default backs off
    # to 10 s): a poll the open inbox page hurries (inbox.live) starts within a second.
    idle = {"max_delay": 1.0}
    if scheme == "sqlite":
        return {
            **common,
            "huey_class": "huey.SqliteHuey",
            "filename": url.removeprefix("sqlite:///"),
            "consumer": {"workers": 4, "worker_type": "thread", **idle},
        }
    if scheme in {"redis", "rediss"}:
        return {
            **common,
            "huey_class": "huey.PriorityRedisHuey",
            "url": url,
            "consumer": {"workers": 8, "worker_type": "thread", **idle},
        }
    raise ConfigError(
        f"CHORUS_QUEUE_URL={redact_url(url)}: use sqlite:///path (embedded, the default) "
        "or redis://host:6379/0 (many workers on many machines)."
    )


def email(default_from: str) -> dict:
    """Email backend from EMAIL_URL: console by default, smtp(s)://user:pass@host:port."""
    url = env("EMAIL_URL")
    if not url:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            "DEFAULT_FROM_EMAIL": default_from,
        }
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps", "submission"}:
        raise ConfigError(
            f"EMAIL_URL={redact_url(url)}: use smtp://user:password@host:587 "
            "(STARTTLS) or smtps://user:password@host:465 (TLS)."
        )
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 587),
        "EMAIL_HOST_USER": parts.username or "",
        "EMAIL_HOST_PASSWORD": parts.password or "",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": parts.scheme != "smtps",
        "DEFAULT_FROM_EMAIL": default_from,
    }


def media_origins(url: str) -> list[str]:
    """The origin of CHORUS_MEDIA_URL (a separate host for user media), if one is set."""
    if not url:
        return []
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(
            f"CHORUS_MEDIA_URL={url!r} is not an http(s) URL such as https://media.example.org."
        )
    return [f"{parts.scheme}://{parts.netloc}"]


def https_settings(site_url: str) -> dict:
    """Cookie and transport settings that follow the site address (CHORUS_SITE_URL).

    Served over https (behind a proxy that terminates TLS and sets X-Forwarded-Proto),
    cookies are Secure and browsers are told to use https only (HSTS, one year by
    default); over plain http (development) neither applies. Each can be overridden:
    CHORUS_SECURE_COOKIES, CHORUS_HSTS_SECONDS, CHORUS_TRUST_X_FORWARDED_PROTO.
    """
    parts = urlsplit(site_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(
            f"CHORUS_SITE_URL={site_url!r} is not an http(s) URL such as https://chorus.example.org."
        )
    https = parts.scheme == "https"
    secure = env_bool("CHORUS_SECURE_COOKIES", https)
    raw_hsts = env("CHORUS_HSTS_SECONDS", "31536000" if https else "0")
    if not raw_hsts.isdigit():
        raise ConfigError(f"CHORUS_HSTS_SECONDS={raw_hsts!r} is not a number of seconds.")
    proxy = env_bool("CHORUS_TRUST_X_FORWARDED_PROTO", https)
    return {
        "SESSION_COOKIE_SECURE": secure,
        "CSRF_COOKIE_SECURE": secure,
        "SECURE_HSTS_SECONDS": int(raw_hsts),
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https") if proxy else None,
    }
