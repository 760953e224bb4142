"""Django settings, all read from the environment through `chorus.config`."""

from __future__ import annotations

from pathlib import Path

from chorus import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()

SECRET_KEY = config.secret_key(DATA_DIR)
ENCRYPTION_KEYS = config.encryption_keys(DATA_DIR)
DEBUG = config.env_bool("CHORUS_DEBUG", False)
ALLOWED_HOSTS = config.env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = config.env_list("CSRF_TRUSTED_ORIGINS", [])
# Every e-mailed link starts with this; `chorus run`/`chorus web` default it to what they serve.
SITE_URL = config.site_url("CHORUS_SITE_URL", "http://127.0.0.1:8000")
# A separate origin for user media (e.g. https://media.chorus.example.org, routed to this
# app): files are then served there through signed links, never from the app's origin.
CHORUS_MEDIA_URL = config.env("CHORUS_MEDIA_URL").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "ninja",  # Swagger UI's assets from our own static files: offline, and no CDN for the CSP
    "chorus.accounts",
    "chorus.networks",
    "chorus.governance",
    "chorus.publishing",
    "chorus.listening",
    "chorus.links",
    "chorus.analytics",
    "chorus.inbox",
    "chorus.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chorus.links.redirects.ShortLinkMiddleware",  # /l/<code> before sessions, auth, CSP
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "chorus.governance.context.AuditContextMiddleware",
    "chorus.accounts.middleware.UserPreferencesMiddleware",
    "chorus.accounts.middleware.CurrentWorkspaceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Content-Security-Policy for every page (django-csp; see docs/security.md): scripts and
# styles only from our own origin, so no inline script, event handler or style attribute
# runs; htmx is told not to inject its indicator <style> (see web/templates/web/base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *config.media_origins(CHORUS_MEDIA_URL)],
        "media-src": ["'self'", *config.media_origins(CHORUS_MEDIA_URL)],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "chorus.urls"
WSGI_APPLICATION = "chorus.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chorus.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": config.database(DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["chorus.accounts.auth.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600
INVITATION_MAX_AGE = 7 * 24 * 3600

# Sign-in throttling (see docs/governance.md): failures counted in the database per email
# and per client address over a sliding window.
CHORUS_LOGIN_FAILURE_WINDOW = int(config.env("CHORUS_LOGIN_FAILURE_WINDOW", "900"))
CHORUS_LOGIN_MAX_FAILURES_PER_EMAIL = int(config.env("CHORUS_LOGIN_MAX_FAILURES_PER_EMAIL", "5"))
CHORUS_LOGIN_MAX_FAILURES_PER_IP = int(config.env("CHORUS_LOGIN_MAX_FAILURES_PER_IP", "20"))
# Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated).
CHORUS_TRUSTED_PROXIES = config.env_list("CHORUS_TRUSTED_PROXIES", [])

# Database sessions that refuse keys Django never issues (see accounts/sessions.py).
SESSION_ENGINE = "chorus.accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no script of ours reads it: pages carry the token themselves
# Secure cookies, HSTS and the proxy's X-Forwarded-Proto when CHORUS_SITE_URL is https.
globals().update(config.https_settings(SITE_URL))

# Store UTC; show each user's (else the workspace's) zone.
USE_TZ = True
TIME_ZONE = "UTC"

USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("th", "ไทย"),
    ("km", "ខ្មែរ"),
    ("hy", "Հայերեն"),
    ("sw", "Kiswahili"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One shape of date, time and number for every language (chorus/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["chorus.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(config.env("CHORUS_STATIC_ROOT") or DATA_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(config.env("CHORUS_MEDIA_ROOT") or DATA_DIR / "media")
MEDIA_URL = "media/"

# Uploads (see docs/security.md): files over 2.5 MB stream to a temporary file on disk, never
# into memory, and reading stops once one passes CHORUS_UPLOAD_MAX_BYTES (the largest video a
# network takes, 99 MiB, plus room for the multipart envelope). Images are refused above
# CHORUS_MEDIA_MAX_PIXELS (Mastodon's own limit, 7680 × 4320) before any pixel is decoded.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "chorus.core.uploads.CappedUploadHandler",
]
CHORUS_UPLOAD_MAX_BYTES = int(config.env("CHORUS_UPLOAD_MAX_BYTES", str(100 * 1024 * 1024)))
CHORUS_MEDIA_MAX_PIXELS = int(config.env("CHORUS_MEDIA_MAX_PIXELS", "33177600"))
CHORUS_MEDIA_MAX_FRAMES = int(config.env("CHORUS_MEDIA_MAX_FRAMES", "1000"))
CHORUS_MEDIA_MAX_ANIMATION_PIXELS = int(
    config.env("CHORUS_MEDIA_MAX_ANIMATION_PIXELS", str(20 * 33177600))
)
# The most a workspace's media library may hold (bytes); 0 means no limit.
CHORUS_WORKSPACE_MEDIA_QUOTA = int(config.env("CHORUS_WORKSPACE_MEDIA_QUOTA", str(5 * 1024**3)))

globals().update(config.email(config.env("DEFAULT_FROM_EMAIL", "Chorus <chorus@localhost>")))

HUEY = config.queue(DATA_DIR)
if config.env_bool("CHORUS_QUEUE_IMMEDIATE", False):
    HUEY["immediate"] = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": config.env("CHORUS_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "huey": {"level": "INFO", "propagate": False},  # run_huey adds its own handler
        "httpx": {"level": "WARNING"},  # one line per network request is noise, not news
    },
}

NINJA_PAGINATION_CLASS = "chorus.api.inputs.Pagination"
NINJA_PAGINATION_PER_PAGE = 50
NINJA_MAX_PER_PAGE_SIZE = 200  # the name django-ninja reads (not NINJA_PAGINATION_…)

# Publishing: how many network calls one dispatcher makes at once, and how late is too late.
CHORUS_DISPATCH_CONCURRENCY = int(config.env("CHORUS_DISPATCH_CONCURRENCY", "200"))
CHORUS_LATE_CUTOFF_SECONDS = int(config.env("CHORUS_LATE_CUTOFF_SECONDS", "3600"))
# A claim not recorded within the lease (its dispatcher died) is taken over; first retry delay.
CHORUS_DISPATCH_LEASE_SECONDS = int(config.env("CHORUS_DISPATCH_LEASE_SECONDS", "300"))
CHORUS_DISPATCH_BACKOFF_SECONDS = float(config.env("CHORUS_DISPATCH_BACKOFF_SECONDS", "15"))
# A network call with no answer after this long is an uncertain outcome (reconciled on retry).
CHORUS_DISPATCH_TIMEOUT_SECONDS = float(config.env("CHORUS_DISPATCH_TIMEOUT_SECONDS", "30"))

# Requests per window shared by all accounts on one server (a network's per-IP quota);
# defaults come from each network's Limits.server_budget.
CHORUS_SERVER_BUDGETS = config.server_budgets("CHORUS_SERVER_BUDGETS")
# The share of each account's and server's budget that background readers (inbox pollers,
# metrics collectors) leave to publishing: they stop short of it (networks/budgets.py).
CHORUS_PUBLISHING_RESERVE = float(config.env("CHORUS_PUBLISHING_RESERVE", "0.3"))

# Outgoing requests to addresses users chose reach public addresses only (core/egress.py);
# these are the exceptions, for local test servers. The sandbox network that Chorus itself
# starts in demo mode (CHORUS_SANDBOX_URL) is allowed too, read when a request is made.
CHORUS_OUTBOUND_ALLOW = config.outbound_allow("CHORUS_OUTBOUND_ALLOW")

# Social listening: empty, a listening process matches and stores what it reads; a Redis URL
# (redis://127.0.0.1:6379/0), it adds the posts to a Redis stream that matcher processes
# (`chorus manage listen --match`) share as one consumer group (docs/listening.md).
CHORUS_LISTENING_BROKER = config.env("CHORUS_LISTENING_BROKER")

# Network-specific connect options, e.g. a private AT Protocol network's own PLC directory.
CHORUS_NETWORK_OPTIONS = {
    "bluesky": {
        "plc_url": config.env("CHORUS_ATPROTO_PLC_URL"),
        # Where handles are resolved for OAuth sign-in when no server is typed (bsky.social).
        "handle_resolver": config.env("CHORUS_ATPROTO_HANDLE_RESOLVER"),
        # Where public profiles and feeds (competitors) are read: public.api.bsky.app.
        "public_appview": config.env("CHORUS_ATPROTO_PUBLIC_APPVIEW"),
    },
    # The installation's X app (docs/networks/x.md); api_url only for a stand-in server.
    "x": {
        "client_id": config.env("CHORUS_X_CLIENT_ID"),
        "client_secret": config.env("CHORUS_X_CLIENT_SECRET"),
        "api_url": config.env("CHORUS_X_API_URL"),
    },
    # The installation's Meta app with the Threads use case (docs/networks/threads.md);
    # graph_url and auth_url only for a stand-in server.
    "threads": {
        "app_id": config.env("CHORUS_THREADS_APP_ID"),
        "app_secret": config.env("CHORUS_THREADS_APP_SECRET"),
        "graph_url": config.env("CHORUS_THREADS_GRAPH_URL"),
        "auth_url": config.env("CHORUS_THREADS_AUTH_URL"),
    },
    # The installation's TikTok app (docs/networks/tiktok.md): until TikTok audits it, posts
    # can only be private (CHORUS_TIKTOK_AUDITED); api_url and auth_url only for a stand-in.
    "tiktok": {
        "client_key": config.env("CHORUS_TIKTOK_CLIENT_KEY"),
        "client_secret": config.env("CHORUS_TIKTOK_CLIENT_SECRET"),
        "audited": "1" if config.env_bool("CHORUS_TIKTOK_AUDITED", False) else "",
        "pull_from_url": "1" if config.env_bool("CHORUS_TIKTOK_PULL_FROM_URL", False) else "",
        "api_url": config.env("CHORUS_TIKTOK_API_URL"),
        "auth_url": config.env("CHORUS_TIKTOK_AUTH_URL"),
    },
    # The installation's LinkedIn app (docs/networks/linkedin.md); scopes grow with the
    # products LinkedIn approved; api_url and auth_url only for a stand-in server.
    "linkedin": {
        "client_id": config.env("CHORUS_LINKEDIN_CLIENT_ID"),
        "client_secret": config.env("CHORUS_LINKEDIN_CLIENT_SECRET"),
        "scopes": config.env("CHORUS_LINKEDIN_SCOPES"),
        "version": config.env("CHORUS_LINKEDIN_VERSION"),
        "api_url": config.env("CHORUS_LINKEDIN_API_URL"),
        "auth_url": config.env("CHORUS_LINKEDIN_AUTH_URL"),
    },
}

# Facebook Pages and Instagram speak Meta's Graph API through the installer's own Meta app
# (docs/networks/facebook.md): until the app id and secret are set both networks show as
# "needs setup". CHORUS_META_CONFIG_ID is a Facebook Login for Business configuration (its
# permissions replace the scope list). The URLs change only for the network emulator.
CHORUS_META_APP_ID = config.env("CHORUS_META_APP_ID")
CHORUS_META_APP_SECRET = config.env("CHORUS_META_APP_SECRET")
CHORUS_META_CONFIG_ID = config.env("CHORUS_META_CONFIG_ID")
CHORUS_META_GRAPH_VERSION = config.env("CHORUS_META_GRAPH_VERSION", "v23.0")
CHORUS_META_GRAPH_URL = config.env("CHORUS_META_GRAPH_URL", "https://graph.facebook.com").rstrip(
    "/"
)
CHORUS_META_VIDEO_URL = config.env(
    "CHORUS_META_VIDEO_URL", "https://graph-video.facebook.com"
).rstrip("/")
CHORUS_META_DIALOG_URL = config.env("CHORUS_META_DIALOG_URL", "https://www.facebook.com").rstrip(
    "/"
)

# The sandbox network (chorus.sandbox): practice Bluesky and Mastodon servers on loopback.
# `chorus run` starts it with the demo unless CHORUS_SANDBOX=false; elsewhere it is off
# unless CHORUS_SANDBOX=true. CHORUS_SANDBOX_URL is its address, set by `chorus run` once it
# listens (or by you, when you run `python -m chorus.sandbox` yourself): accounts on that
# server are flagged as sandbox accounts, and loopback checks may allow exactly this address.
CHORUS_SANDBOX = config.env_bool("CHORUS_SANDBOX", False)
CHORUS_SANDBOX_URL = config.env("CHORUS_SANDBOX_URL").rstrip("/")
