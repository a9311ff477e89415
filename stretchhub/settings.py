"""StretchHub settings, read once from the environment (the variables: README, "Configuration")."""

import datetime as dt
from email.utils import parseaddr
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str, env_url, s3_media_options
from .vapid import private_key as _vapid_private_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DJANGO_DEBUG", False)

# No secret has a production default: outside DEBUG the key must be given.
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY", "insecure-development-key-only-for-debug" if DEBUG else None, required=not DEBUG
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS (comma-separated) when DJANGO_DEBUG is off.")

# Proxies in front of gunicorn: throttles and the login lockout then read the
# client's address from X-Forwarded-For (stretchhub/client_ip.py).
NUM_PROXIES = env_int("DJANGO_NUM_PROXIES", 0)

SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")

INSTALLED_APPS = [
    # Before the admin, so its translation admin classes and widgets are found first.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "adminsortable2",
    "imagekit",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "accounts",
    "stretchhub.api",
    "programs",
    "programs.reminders",
    "webhooks",
    "axes",
]

MIDDLEWARE = [
    "stretchhub.middleware.RequestIDMiddleware",
    "stretchhub.middleware.APIErrorsAsJSONMiddleware",
    # Before anything reads a cookie, the query string or a form: see stretchhub/input.py.
    "stretchhub.input.RejectUnusableInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the switcher's cookie or Accept-Language; sets Content-Language on every response.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Then ?lang= and a member's saved language (docs/i18n.md).
    "stretchhub.i18n.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during authenticate() into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "stretchhub.urls"
WSGI_APPLICATION = "stretchhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'stretchhub.sqlite3'}" if DEBUG else None, required=not DEBUG),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file under `make run`: wait for locks
    # instead of failing, and use WAL so readers do not block the writer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# English and German (docs/i18n.md). Pages follow ?lang=, then a member's saved
# language, then the footer switcher's cookie, then Accept-Language; an email
# follows its recipient's saved language.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our own date and time formats for English (British order, 7:45); German keeps Django's.
FORMAT_MODULE_PATH = ["stretchhub.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Program content (django-modeltranslation): a column per language, an empty
# German field falls back to the English one, field by field.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves hashed, pre-compressed files (cached forever by browsers)
# from the image, collected at build time. Debugging and the test suite keep
# plain names so they need no collectstatic run.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Decided here, not from DEBUG at run time: the test runner switches DEBUG off
# but has no collected files, so it serves from the source folders like `make run`.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG

# Media: stretch pictures and videos (docs/media.md). Without a bucket they are
# files under var/media/ that Django serves itself (`make run`, the tests);
# production must name an S3-compatible bucket, since a container's disk is
# neither shared between web containers nor kept across deploys. Objects are
# written once under names that never change, and read straight from the
# bucket's public address (MEDIA_S3_PUBLIC_URL): links in emails never expire.
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_S3_BUCKET = env_str("MEDIA_S3_BUCKET")
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"
if not DEBUG and not MEDIA_S3_BUCKET:
    raise ImproperlyConfigured(
        "Set MEDIA_S3_BUCKET (and MEDIA_S3_PUBLIC_URL) when DJANGO_DEBUG is off: media must live in a bucket."
    )
MEDIA_ORIGIN = None
if MEDIA_S3_BUCKET:
    _s3 = s3_media_options(bucket=MEDIA_S3_BUCKET, cache_control=MEDIA_CACHE_CONTROL)
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3.options}
    MEDIA_ORIGIN = _s3.public_origin
# Django serves media itself only from the filesystem: a bucket serves its own.
MEDIA_SERVED_BY_DJANGO = not MEDIA_S3_BUCKET
# Upload limits (programs/media.py): a larger file is refused before it is decoded or stored.
MEDIA_IMAGE_MAX_BYTES = env_int("MEDIA_IMAGE_MAX_MB", 10) * 1024 * 1024
MEDIA_IMAGE_MAX_PIXELS = env_int("MEDIA_IMAGE_MAX_MEGAPIXELS", 40) * 1_000_000
MEDIA_VIDEO_MAX_BYTES = env_int("MEDIA_VIDEO_MAX_MB", 100) * 1024 * 1024
for _name, _value in (
    ("MEDIA_IMAGE_MAX_MB", MEDIA_IMAGE_MAX_BYTES),
    ("MEDIA_IMAGE_MAX_MEGAPIXELS", MEDIA_IMAGE_MAX_PIXELS),
    ("MEDIA_VIDEO_MAX_MB", MEDIA_VIDEO_MAX_BYTES),
):
    if _value <= 0:
        raise ImproperlyConfigured(f"{_name} must be a positive number.")
# Uploads above this are spooled to a temporary file, not held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# A picture's responsive sizes: made once, when it is uploaded (services.stretch_image_add),
# and never looked for at render time (Optimistic: assume they exist).
IMAGEKIT_CACHEFILE_DIR = "sizes"
IMAGEKIT_DEFAULT_CACHEFILE_STRATEGY = "imagekit.cachefiles.strategies.Optimistic"

# The cache holds nothing the database does not: rate-limit counters, beat's
# heartbeat and entries keyed by the data they show (docs/caching.md). Losing
# it loses nothing, so a Redis outage only slows pages down: django-redis
# answers a miss instead of raising and logs the error. Production shares one
# Redis between every process so throttles count together; a process without
# REDIS_URL (make run, the SQLite test run) keeps its own.
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if not DEBUG and not REDIS_URL:
    raise ImproperlyConfigured("Set REDIS_URL (the cache Redis) when DJANGO_DEBUG is off.")
if REDIS_URL:
    _redis_cache = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "stretchhub",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1, "IGNORE_EXCEPTIONS": True},
    }
    CACHES = {"default": _redis_cache, "heartbeat": _redis_cache}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Beat's heartbeat is written by the worker and read by web: without
        # Redis they share only the disk.
        "heartbeat": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "heartbeat",
        },
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "stretchhub.cache"

# Sessions live in the database only: a Redis restart logs nobody out, and a
# logout ends the session in every process at once.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# HTTPS. TLS ends at the proxy in front of gunicorn, which must set (and strip
# any client-sent) X-Forwarded-Proto. Every switch defaults to on in production.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Orchestrator probes talk plain HTTP straight to the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Our scripts read the token from the form they submit, never from the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [SITE_URL])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp). Scripts and styles only from our own
# files, or inline with the per-response nonce (request.csp_nonce /
# {{ CSP_NONCE }}); no style="" attributes either. Pictures and videos also
# from the media bucket. The one inline style allowed by hash is the API docs
# page's (drf-spectacular's swagger_ui.html; a test fails if an upgrade changes it).
SWAGGER_UI_STYLE_HASH = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE, SWAGGER_UI_STYLE_HASH],
        "img-src": [SELF, "data:", *([MEDIA_ORIGIN] if MEDIA_ORIGIN else [])],
        "media-src": [SELF, *([MEDIA_ORIGIN] if MEDIA_ORIGIN else [])],
        # No frames by default: a page that shows a YouTube or Vimeo video adds
        # that player's origin, and only that one (programs.media.allow_embeds).
        "frame-src": [NONE],
        "font-src": [SELF],
        "connect-src": [SELF],
        # The web app manifest and the service worker (/sw.js), both our own (docs/push.md).
        "manifest-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# The guided player honours ?speed=N (timers N times faster) only when this is on:
# for development and the browser tests, never needed in production.
PLAYER_SPEED_PARAM = env_bool("PLAYER_SPEED_PARAM", DEBUG)

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "programs:dashboard"
LOGOUT_REDIRECT_URL = "home"

# django-axes checks for a lockout first; then members log in with their email or username.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailOrUsernameBackend",
]
# Five failures for one account from one address lock that pair out for 15 minutes:
# brute force is slowed, while an attacker cannot lock a member out from everywhere.
AXES_CLIENT_IP_CALLABLE = "stretchhub.client_ip.client_ip"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Forms that create an account or send email, per client address (and per
# inbox for password resets), so nobody can flood an inbox or mint accounts
# in bulk: fixed windows in the shared cache (stretchhub/ratelimit.py).
ACCOUNT_SIGNUP_RATE = env_str("ACCOUNT_SIGNUP_RATE", "10/hour")
ACCOUNT_PASSWORD_RESET_RATE = env_str("ACCOUNT_PASSWORD_RESET_RATE", "10/hour")
ACCOUNT_PASSWORD_RESET_EMAIL_RATE = env_str("ACCOUNT_PASSWORD_RESET_EMAIL_RATE", "3/hour")
# A verification link stays valid this long (django.core.signing max_age).
ACCOUNT_VERIFICATION_MAX_AGE = dt.timedelta(days=3)

# Email: SMTP when EMAIL_HOST is set, otherwise one file per message under var/mail/.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "StretchHub <hello@stretchhub.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Web Push (docs/push.md): reminders and catch-up nudges on members' devices.
# The VAPID key signs every push; browsers subscribe with its public half, so a
# new key means every device switches push on again. Production must be given
# one. In development `make run` writes one to var/ (manage.py push_keys),
# read here when the variable is unset; without either, push is unavailable.
VAPID_DEV_KEY_FILE = VAR_DIR / "vapid-private-key.txt"
VAPID_PRIVATE_KEY = env_str(
    "VAPID_PRIVATE_KEY",
    VAPID_DEV_KEY_FILE.read_text().strip() if DEBUG and VAPID_DEV_KEY_FILE.exists() else None,
    required=not DEBUG,
)
if VAPID_PRIVATE_KEY:
    _vapid_private_key(VAPID_PRIVATE_KEY)  # fails loudly on a bad value
# Who push services may contact about our pushes (RFC 8292): a mailto: or https: URL.
VAPID_SUBJECT = env_str("VAPID_SUBJECT", f"mailto:{parseaddr(DEFAULT_FROM_EMAIL)[1]}")
if not VAPID_SUBJECT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured(f"VAPID_SUBJECT must be a mailto: or https:// URL; got {VAPID_SUBJECT!r}.")
# Push services are public https hosts; development and the tests run their own on 127.0.0.1.
WEB_PUSH_ALLOW_PRIVATE = env_bool("WEB_PUSH_ALLOW_PRIVATE", DEBUG)
# One push's timeout; like EMAIL_TIMEOUT it stays under the outbox's sending lease.
WEB_PUSH_TIMEOUT_SECONDS = env_int("WEB_PUSH_TIMEOUT_SECONDS", 10)

# Celery. With no broker configured, kombu's filesystem transport uses a folder
# as the queue, so `make run` needs no server; production sets redis://.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables (remote control, pidbox); kombu's default is ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Longer than any task (time limit below) so Redis never redelivers a
    # message that a live worker is still working on.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# One message per pool process, and on Redis none fetched before a process is
# free: a worker killed mid-batch holds no message it had not started (Redis
# would give such a message back only after visibility_timeout), so the rows
# it leaves are held by a sender and come back with its lease (docs/messages.md).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_DISABLE_PREFETCH = CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
CELERY_TIMEZONE = "UTC"

# Outbox leases (docs/messages.md): a row whose sender (or dispatcher) stopped
# renewing for OUTBOX_SENDING_LEASE_SECONDS, or that sat in the broker for
# OUTBOX_QUEUED_LEASE_SECONDS untaken, is taken back by the next dispatch
# (every minute), so a killed worker's messages still leave within two minutes.
# EMAIL_TIMEOUT must stay under the sending lease: one SMTP call is the longest
# a sender goes without renewing.
OUTBOX_QUEUED_LEASE_SECONDS = env_int("OUTBOX_QUEUED_LEASE_SECONDS", 300)
OUTBOX_SENDING_LEASE_SECONDS = env_int("OUTBOX_SENDING_LEASE_SECONDS", 30)
OUTBOX_MISSED_AFTER_HOURS = env_int("OUTBOX_MISSED_AFTER_HOURS", 6)
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}
# Beat's proof of life for /healthz?full=1 (stretchhub/tasks.py).
CELERY_IMPORTS = ["stretchhub.tasks"]
CELERY_BEAT_SCHEDULE["beat-heartbeat"] = {"task": "stretchhub.tasks.beat_heartbeat_task", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["sessions-clear-expired"] = {
    "task": "stretchhub.tasks.sessions_clear_expired_task",
    "schedule": crontab(minute=17, hour=3),
}
# The outbox (every email): on the minute (UTC) so one due at 08:00 local
# leaves seconds later. A dispatch not started within 55 s is dropped: the next
# one covers it.
CELERY_BEAT_SCHEDULE["outbox-dispatch"] = {
    "task": "programs.reminders.tasks.outbox_dispatch_task",
    "schedule": crontab(minute="*"),
    "options": {"expires": 55},
}

# API Idempotency-Keys are remembered 24 hours; older records are deleted hourly.
CELERY_IMPORTS.append("stretchhub.api.idempotency")
CELERY_BEAT_SCHEDULE["idempotency-records-prune"] = {
    "task": "stretchhub.api.idempotency.idempotency_records_prune_task",
    "schedule": 3600.0,
    "options": {"expires": 3000},
}

# Partner webhooks (docs/webhooks.md). Private and loopback addresses are refused
# as webhook URLs; WEBHOOKS_ALLOW_PRIVATE lets development and tests use
# http://127.0.0.1. A POST that takes longer than the timeout is retried later.
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", DEBUG)
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 5)
# A sender's claim on a delivery; a sender killed mid-POST gives it back this much
# later. Longer than the timeout, so a live sender never loses a row it is sending.
WEBHOOKS_CLAIM_LEASE_SECONDS = env_int("WEBHOOKS_CLAIM_LEASE_SECONDS", 60)
if WEBHOOKS_CLAIM_LEASE_SECONDS <= WEBHOOKS_TIMEOUT_SECONDS:
    raise ImproperlyConfigured("WEBHOOKS_CLAIM_LEASE_SECONDS must be longer than WEBHOOKS_TIMEOUT_SECONDS.")
CELERY_IMPORTS.append("webhooks.tasks")
# Deliveries are queued when their change commits; this picks up retries that
# fell due and anything queued while the broker was away.
CELERY_BEAT_SCHEDULE["webhooks-dispatch"] = {
    "task": "webhooks.tasks.webhooks_dispatch_task",
    "schedule": 5.0,
    "options": {"expires": 5},
}
CELERY_BEAT_SCHEDULE["webhook-events-prune"] = {
    "task": "webhooks.tasks.webhook_events_prune_task",
    "schedule": crontab(minute=41, hour=3),
}

# The API (plumbing in stretchhub/api, views in programs/api and accounts/api): JSON only, strict pagination,
# per-caller throttles.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "stretchhub.api.schema.StretchHubAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "stretchhub.api.authentication.MemberTokenAuthentication",
        "stretchhub.api.authentication.PartnerKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["stretchhub.api.permissions.IsMember"],
    "DEFAULT_THROTTLE_CLASSES": ["stretchhub.api.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "120/min"),
        "member": env_str("API_THROTTLE_MEMBER", "600/min"),
        "partner": env_str("API_THROTTLE_PARTNER", "1200/min"),
        # Getting a token checks a password: a handful per minute per address.
        "token": env_str("API_THROTTLE_TOKEN", "10/min"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_PAGINATION_CLASS": "stretchhub.api.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["stretchhub.api.parsers.StrictJSONParser"],
    "EXCEPTION_HANDLER": "stretchhub.api.exceptions.api_exception_handler",
    "UNICODE_JSON": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "StretchHub API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DESCRIPTION": (
        "Stretching programs for members and partners. Members authenticate with a session or "
        "`Authorization: Token <token>` (POST /api/v1/auth/token/); partners with `Authorization: Api-Key <key>`. "
        "Errors are JSON: {message, code, errors}. Writes accept an Idempotency-Key header. "
        "Responses are in English or German: send Accept-Language (or ?lang=de); Content-Language says which."
    ),
    # Request and response shapes differ (read-only fields), and request bodies refuse unknown fields.
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # 3.1 for its `webhooks` section: what each partner webhook carries (webhooks/api/openapi.py).
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": [
        f"webhooks.api.openapi.{name}"
        for name in (
            "member_created",
            "member_updated",
            "enrolment_created",
            "enrolment_paused",
            "enrolment_resumed",
            "enrolment_left",
            "enrolment_completed",
            "completion_created",
            "completion_deleted",
            "webhook_test",
        )
    ],
    # The timezone enum has ~600 names: list them once, not again in every description.
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    # Enrolments and webhook deliveries both have a `status`: each enum by its own name.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "programs.models.Enrolment.Status",
        "WebhookDeliveryStatusEnum": "webhooks.models.WebhookDelivery.Status",
    },
    # The schema and docs are public: credentials sent to them are not even looked at.
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "stretchhub.api.schema.strict_request_bodies",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One line per record on stdout (the container's log), tagged with the
    # request id that is also sent back in the X-Request-ID header.
    "filters": {"request_id": {"()": "stretchhub.middleware.RequestIDFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every step of every handout at INFO; its warnings (a CSS rule it skips) still show.
    "loggers": {"weasyprint": {"level": "WARNING"}, "weasyprint.progress": {"level": "WARNING"}},
}

VAR_DIR.mkdir(exist_ok=True)
