"""AttendNC settings, read from the environment.

With nothing set, the app runs as a self-contained demo: SQLite, an in-memory cache and Celery
tasks executed in-process, so a newcomer needs no database or broker server. Production sets
DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0 (see .env.example).
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", True)

# A fixed key is only tolerable for the local demo; production must set SECRET_KEY
# (check --deploy flags a short or default key).
DEMO_SECRET_KEY = "insecure-demo-key-only-for-local-development"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEMO_SECRET_KEY
if not DEBUG and SECRET_KEY in {DEMO_SECRET_KEY, "change-me-to-a-long-random-string-of-at-least-fifty-characters"}:
    # Sessions, password-reset links and CSRF tokens signed with a published key can be forged.
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is the demo's (or .env.example's): set SECRET_KEY to a long random value, "
        'e.g. python -c "import secrets; print(secrets.token_urlsafe(50))".'
    )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "attendnc.apps.SuperuserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: no CDN, CSP 'self'
    "django_htmx",
    "template_partials",
    "csp",
    "districts",
    "exports",
    "students",
    "imports",
    "tiers",
    "outreach",
    "cases",
    "languages",
    "pulse",
]

MIDDLEWARE = [
    # Every request starts on a fresh chunk of the interpreter's frame stack (CPython 3.11 unmaps
    # a chunk on each return across its edge; the module says why this halves some renders).
    "attendnc.frame_stack.RoomyFrameStackMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "imports.middleware.UploadLimitMiddleware",  # an oversized import upload gets 413 before its body is read
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML compressed on the way out (a huddle page shrinks ~8x). Below WhiteNoise, which serves
    # its own pre-compressed static files; above every middleware that reads or writes the body.
    # BREACH needs a secret reflected in a compressed body beside attacker-chosen text: the CSRF
    # token in our forms is masked afresh on every response (Django's default), so it never
    # repeats, and no other secret is echoed into pages. GZip is therefore safe for this app.
    "django.middleware.gzip.GZipMiddleware",
    "districts.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "languages.middleware.UserLanguageMiddleware",  # the user's saved language, else cookie, else browser
    "django.contrib.messages.middleware.MessageMiddleware",
    "districts.sessions.IdleSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "districts.middleware.DistrictScopeMiddleware",
    "districts.middleware.SuperuserAdminMiddleware",
    "districts.audit.StudentAuditMiddleware",
]

ROOT_URLCONF = "attendnc.urls"
WSGI_APPLICATION = "attendnc.wsgi.application"
ASGI_APPLICATION = "attendnc.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "attendnc.navigation.district_nav",
                "pulse.context_processors.support_due",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# The interface's languages (docs/translations.md). Names are autonyms: the switch shows each
# language in its own words. A family's messages may be in more (outreach templates).
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "attendnc_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = not DEBUG
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Redis backs the cache (login rate limits must be shared across gunicorn workers) and Celery.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that is down must cost a request a second, not a hang (sign-in falls back
            # to the database: districts.login_throttle).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A worker process killed mid-task (OOM, SIGKILL, a deploy) puts the message back on the queue;
# every task body is idempotent (districts.tasks.DistrictTask). Time limits for tasks that set none.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = 30 * 60
CELERY_TASK_TIME_LIMIT = 35 * 60
# Redis hands an unacknowledged message to another worker after this long: longer than any
# task's hard limit, so a slow task is never run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A district of more than one chunk of students (tiers.services.CHUNK_STUDENTS) runs its chunks as
# a Celery chord across the workers (tiers.tasks); off, one task computes them one after another.
METRICS_CHUNK_TASKS = envbool("METRICS_CHUNK_TASKS", True)
CELERY_TIMEZONE = "UTC"
# Beat only ticks; tiers.tasks.nightly_dispatch starts each district's run once its own clock has
# passed 02:00, so one schedule serves Honolulu and Raleigh alike and a missed tick catches up.
CELERY_BEAT_SCHEDULE = {
    "nightly-metrics-dispatch": {"task": "tiers.tasks.nightly_dispatch", "schedule": crontab(minute="*/15")},
    # Likewise Monday's huddles, once each district's morning has come (outreach.tasks).
    "weekly-huddle-dispatch": {"task": "outreach.tasks.huddle_dispatch", "schedule": crontab(minute="*/15")},
    "export-files-expire": {"task": "exports.tasks.export_files_expire", "schedule": crontab(minute=7)},
    "letter-files-expire": {"task": "outreach.families.tasks.letter_files_expire", "schedule": crontab(minute=17)},
    # Same-day absence notices: each district's today, queued and sent as its attendance arrives.
    "absence-notice-dispatch": {"task": "outreach.families.tasks.notices_dispatch", "schedule": crontab(minute="*/10")},
    # Runs stuck queued or running past their limit become failed (with a retry button): districts.runs.
    "metrics-runs-sweep": {"task": "tiers.tasks.metrics_runs_sweep", "schedule": crontab(minute="*/2")},
    "import-runs-sweep": {"task": "imports.tasks.import_runs_sweep", "schedule": crontab(minute="*/2")},
    "export-jobs-sweep": {"task": "exports.tasks.export_jobs_sweep", "schedule": crontab(minute="*/2")},
}
# Export files (PDFs, large CSVs of student rows, nudge letters) are removed this many hours after
# they were made (hourly by beat, or `manage.py expire_files`); their pages offer to prepare them again.
EXPORT_RETENTION_HOURS = envint("EXPORT_RETENTION_HOURS", 24)
# Worker processes laying out a large batch of nudge letters side by side (1: in the task itself).
LETTERS_PROCESSES = envint("LETTERS_PROCESSES", min(os.cpu_count() or 1, 4))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "AttendNC <no-reply@attendnc.local>")
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (one file per message).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH") or str(BASE_DIR / "media" / "sent-email")
# Text messages (outreach.families.sms): console, file (SMS_FILE_PATH) or http (a provider's API).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH") or str(BASE_DIR / "media" / "sent-sms.jsonl")
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
SMS_FROM = os.environ.get("SMS_FROM", "")
# The site's address, for links in emails sent outside a request (management commands).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Security: cookies travel only over HTTPS outside the local demo.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 60 * 60)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies of ours append to X-Forwarded-For; 0 believes only the connection.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Failed sign-ins allowed per account and client address together in the window, and password-reset
# requests per email (ten times as many per address) (districts.login_throttle).
LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10/5m")
PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "3/1h")

REST_FRAMEWORK = {
    # Token first: an API client without credentials gets 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON only: people read the API through /api/docs/; the browsable API would be a second UI
    # to keep inside the CSP and the accessibility checks.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}
# API tokens (districts/tokens.py): hashed, with the expiry each token gets from its districts;
# "Token <key>" as before, so clients of the old DRF tokens change nothing but the key.
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(days=90),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AttendNC API",
    "DESCRIPTION": "District-scoped API for attendance, tiers and outreach. Every path names its district.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/(d/\{district\}/)?api/",  # tags by resource (students, me), not "d"
    # The schema lists routes and fields, no district data; still, only signed-in users read it.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several resources have a "status"; each named enum keeps the schema free of naming collisions.
    "ENUM_NAME_OVERRIDES": {
        "FlagStatusEnum": "tiers.api.FLAG_STATUS_CHOICES",
        "PulseLevelEnum": "pulse.figures.LEVELS",
        "BarrierEnum": "outreach.models.Barrier.choices",
        "CaseOutcomeEnum": "cases.models.CaseOutcome.choices",
        "SupportRequestStatusEnum": "pulse.models.SUPPORT_REQUEST_STATUSES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

AUTH_USER_MODEL = "districts.User"

# Imports: the largest upload (the form, the API), and what a zip may unpack to and how far one
# member may be compressed (a zip bomb guard, for every path including the command line).
IMPORT_MAX_UPLOAD_BYTES = envint("IMPORT_MAX_UPLOAD_MB", 200) * 1024 * 1024
IMPORT_MAX_UNCOMPRESSED_BYTES = envint("IMPORT_MAX_UNCOMPRESSED_MB", 4096) * 1024 * 1024
IMPORT_MAX_COMPRESSION_RATIO = envint("IMPORT_MAX_COMPRESSION_RATIO", 100)
