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
SITE_URL = config.env("CHORUS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "chorus.accounts",
    "chorus.networks",
    "chorus.governance",
    "chorus.publishing",
    "chorus.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = config.env_bool("CHORUS_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

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
    },
}

NINJA_PAGINATION_CLASS = "ninja.pagination.PageNumberPagination"
NINJA_PAGINATION_PER_PAGE = 50
NINJA_MAX_PER_PAGE_SIZE = 200  # the name django-ninja reads (not NINJA_PAGINATION_…)

# Publishing: how many network calls one dispatcher makes at once, and how late is too late.
CHORUS_DISPATCH_CONCURRENCY = int(config.env("CHORUS_DISPATCH_CONCURRENCY", "200"))
CHORUS_LATE_CUTOFF_SECONDS = int(config.env("CHORUS_LATE_CUTOFF_SECONDS", "3600"))
# A claim not recorded within the lease (its dispatcher died) is taken over; first retry delay.
CHORUS_DISPATCH_LEASE_SECONDS = int(config.env("CHORUS_DISPATCH_LEASE_SECONDS", "300"))
CHORUS_DISPATCH_BACKOFF_SECONDS = float(config.env("CHORUS_DISPATCH_BACKOFF_SECONDS", "15"))

# Requests per window shared by all accounts on one server (a network's per-IP quota);
# defaults come from each network's Limits.server_budget.
CHORUS_SERVER_BUDGETS = config.server_budgets("CHORUS_SERVER_BUDGETS")

# Network-specific connect options, e.g. a private AT Protocol network's own PLC directory.
CHORUS_NETWORK_OPTIONS = {
    "bluesky": {"plc_url": config.env("CHORUS_ATPROTO_PLC_URL")},
}
