"""Settings, read from the environment (django-environ). Defaults run the demo with no services:
SQLite, an embedded filesystem Celery broker, console e-mail and local file storage.
Production sets DATABASE_URL, CELERY_BROKER_URL, EMAIL_URL, SECRET_KEY, ALLOWED_HOSTS, DEBUG=false
and the storage variables (see README)."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("ASTRA_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env")

# Safe by default: DEBUG is off unless the environment turns it on (`make demo` does).
DEBUG = env.bool("DEBUG", default=False)
DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-astra-ops-0000"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a secret of your own when DEBUG is false "
        "(the built-in development key is refused)."
    )
# The key of the case history's hash chain (an HMAC): from the environment, never the database,
# so whoever can rewrite the table cannot re-hash it. Changing it invalidates existing chains.
DEV_AUDIT_KEY = "dev-only-audit-key-astra-ops-0000"
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default=DEV_AUDIT_KEY if DEBUG else "")
if not DEBUG and (not AUDIT_HMAC_KEY or AUDIT_HMAC_KEY == DEV_AUDIT_KEY):
    raise ImproperlyConfigured(
        "AUDIT_HMAC_KEY must be set to a secret of your own when DEBUG is false "
        "(the built-in development key is refused)."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "csp",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "calendar_rules.apps.CalendarRulesConfig",
    "disputes.apps.DisputesConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "disputes.security.middleware.SessionIdleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "disputes.security.middleware.SecurityHeadersMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "astra_ops.urls"
WSGI_APPLICATION = "astra_ops.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'astra_ops.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs a web process and a Celery worker on one SQLite file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # dispute_open_overdue_idx includes columns for PostgreSQL's index-only counts; SQLite builds
    # it without them, which is all the demo needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/disputes/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# Business dates (deadlines, "due today") are dates in the operations time zone; datetimes are
# stored in UTC and shown in this zone.
OPS_TIME_ZONE = env.str("OPS_TIME_ZONE", default="America/New_York")
TIME_ZONE = OPS_TIME_ZONE
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# Storage: local files by default; S3 (or any S3-compatible store) when a bucket is named.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
_staticfiles_backend = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG
    else "whitenoise.storage.CompressedManifestStaticFilesStorage"
)
AUDIT_CHECKPOINT_DIR = Path(
    env.str("AUDIT_CHECKPOINT_DIR", default=str(VAR_DIR / "audit-checkpoints"))
)
EVIDENCE_DIR = Path(env.str("EVIDENCE_DIR", default=str(VAR_DIR / "evidence")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _staticfiles_backend},
    # Signed checkpoints of the case history, kept outside the database (disputes.history).
    "audit": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(AUDIT_CHECKPOINT_DIR)},
    },
    # Evidence files (disputes.evidence): private, never under a public URL.
    "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(EVIDENCE_DIR), "base_url": None},
    },
}
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
    STORAGES["audit"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**STORAGES["default"]["OPTIONS"], "location": "audit-checkpoints"},
    }
    STORAGES["evidence"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **STORAGES["default"]["OPTIONS"],
            "location": "evidence",
            "signature_version": "s3v4",
            "querystring_expire": env.int("EVIDENCE_URL_EXPIRES", default=300),
        },
    }

# Evidence uploads (disputes.evidence.validation): the largest file accepted, and how many
# uploads an evidence-request link takes per hour.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=15 * 1024 * 1024)
EVIDENCE_LINK_UPLOADS_PER_HOUR = env.int("EVIDENCE_LINK_UPLOADS_PER_HOUR", default=40)
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("DATA_UPLOAD_MAX_NUMBER_FILES", default=20)

# E-mail: console by default; smtp://user:pass@host:port (or smtp+tls://) in production.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Astra Ops <disputes@astra-ops.local>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Deadline reminders: banking days before the internal due date (then the day of it, overdue, and
# the day of the network due date).
REMINDER_DAYS_BEFORE = env.list("REMINDER_DAYS_BEFORE", cast=int, default=[5, 2, 1])

# Celery: an embedded filesystem broker by default, so the demo needs no Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery-broker"
    (_queue_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        # kombu's exchange table; its default is a "control" folder in the working directory.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    # With Redis down a publish gives up within seconds instead of retrying for ever: the web
    # request that queued work still answers (astra_ops.celery.enqueue_on_commit), and the
    # periodic tasks queue again what was left waiting once Redis is back.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 10}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 10
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TIMEZONE = OPS_TIME_ZONE
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chains": {
        "task": "disputes.tasks.verify_audit_chains",
        "schedule": crontab(hour=2, minute=15),
        "options": {"expires": 6 * 60 * 60},
    },
    # Our windows close at the end of a business day: an hourly sweep records a missed one
    # within the hour, and catches up after an outage.
    "record-missed-deadlines": {
        "task": "disputes.tasks.record_missed_deadlines",
        "schedule": crontab(minute=7),
        "options": {"expires": 55 * 60},
    },
    "send-deadline-reminders": {
        "task": "disputes.notifications.tasks.send_deadline_reminders",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    # The report summaries: the pages are exact without a refresh; this keeps the part they
    # add on the fly (the disputes changed since) small.
    "refresh-reports": {
        "task": "disputes.reports.tasks.refresh_reports",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    "send-weekly-digest": {
        "task": "disputes.notifications.tasks.send_weekly_digest",
        "schedule": crontab(hour=8, minute=0, day_of_week="mon"),  # CELERY_TIMEZONE: ops time
        "options": {"expires": 6 * 60 * 60},
    },
    # A render requested while Redis was down was never queued: queue it once Redis is back.
    "requeue-waiting-bundles": {
        "task": "disputes.evidence.bundles.tasks.requeue_waiting_bundles",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # Likewise a file received while Redis was down.
    "requeue-waiting-imports": {
        "task": "disputes.intake.tasks.requeue_waiting_imports",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    "expire-evidence-requests": {
        "task": "disputes.evidence.tasks.expire_evidence_requests",
        "schedule": crontab(minute=5),
        "options": {"expires": 50 * 60},
    },
    "purge-idempotency-keys": {
        "task": "disputes.intake.tasks.purge_idempotency_keys",
        "schedule": crontab(minute=35),
        "options": {"expires": 50 * 60},
    },
}

# The REST API (disputes.api): token or session, problem details for every error.
# How long an Idempotency-Key is remembered (disputes/api/idempotency.py).
IDEMPOTENCY_KEY_RETENTION_HOURS = env.int("IDEMPOTENCY_KEY_RETENTION_HOURS", default=24)
if IDEMPOTENCY_KEY_RETENTION_HOURS < 1:
    raise ImproperlyConfigured("IDEMPOTENCY_KEY_RETENTION_HOURS must be at least 1.")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "disputes.api.errors.problem_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Astra Ops API",
    "DESCRIPTION": "Disputes, their acts and history; NACHA, card report and volume imports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "disputes.api.errors.document_problems",
    ],
}
# Filing a response (Visa dispute response, Mastercard second presentment, …) needs a submitted
# bundle that passed preflight, unless an ops lead overrides with a reason. Only tests of the
# state machines turn this off (tests/conftest.py), so they need no PDFs.
FILING_REQUIRES_BUNDLE = env.bool("FILING_REQUIRES_BUNDLE", default=True)

# Production hardening: on whenever DEBUG is off, so `check --deploy` reports nothing.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Sessions end after this long without a request (disputes.security.middleware renews a
# signed-in session's expiry at most every 5 minutes, so the idle clock is exact to 5 minutes).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = False

# Content-Security-Policy (django-csp): scripts and styles only from our own static files (htmx
# is vendored; no inline script, no eval: htmx runs with allowEval off), no framing, forms post
# only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
# Browser features no page here uses are turned off (disputes.security.middleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "fullscreen=(self), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "midi=(), payment=(), publickey-credentials-get=(), usb=(), browsing-topics=()"
)

# Logins (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user, or from one
# address, within AXES_COOLOFF_MINUTES, further tries are refused until the cool-off ends or a
# lead lifts the lockout (/accounts/lockouts/, or the Django admin). Every failure and lockout is
# recorded in the database.
AXES_ENABLED = env.bool("LOGIN_LOCKOUT", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=30))
# Two counters: one per username (whatever the address), one per address (whatever the user).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure kept, flagged when it locked someone out
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind N trusted reverse proxies the client address is the Nth X-Forwarded-For hop from the
# right (disputes.security.logins.client_address); 0 uses REMOTE_ADDR.
LOGIN_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "disputes.security.logins.client_address"
AXES_USERNAME_CALLABLE = "disputes.security.logins.typed_username"
AXES_VERBOSE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
