"""Settings for Strategy Tracker: one module, read from the environment.

Every value a deployment may change comes from an environment variable (or a `.env`
file beside `manage.py`, see `.env.example`). The defaults are the *embedded* setup that
`make run` uses: SQLite, the kombu filesystem broker and e-mail written to files, all
under `var/`. Production (DEBUG off) refuses to start without a real SECRET_KEY. Secrets
may also come from a file named by NAME_FILE (`env_secret`); docs/security.md explains the
hardening at the end of this module.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# Runtime files of the embedded setup: SQLite database, broker queue, mail, uploads.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)


def env_secret(name: str, default: str = "") -> str:
    """A secret from the environment variable NAME, or from the file NAME_FILE names
    (Docker and Kubernetes secrets), with surrounding whitespace removed.

    Setting both, or naming a file that cannot be read, stops start-up with the reason."""
    path = os.environ.get(f"{name}_FILE", "")
    if not path:
        return env.str(name, default=default)
    if os.environ.get(name):
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {error}") from error


# --- Secrets fail closed --------------------------------------------------------------
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it (or SECRET_KEY_FILE) in the environment or .env; "
            "only DEBUG=true may run with the built-in development key."
        )
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "strategy",
    "tracking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Idle and absolute session timeouts (SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS).
    "config.middleware.session_timeouts",
    # Two-factor: request.user.is_verified(), then the gate that sends a signed-in user who
    # owes a code to the verification (or enrolment) page first (config.two_factor).
    "django_otp.middleware.OTPMiddleware",
    "config.two_factor.two_factor_gate",
    "django.contrib.messages.middleware.MessageMiddleware",
    # NUL bytes in a URL or query string are refused with 400 before any view runs.
    "config.middleware.reject_nul_bytes",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # Records request.user as the author of history rows written during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Answers a locked-out sign-in with the sign-in page and its message (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "strategy.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url_config(
        env_secret("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
    ),
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to the same file: WAL lets readers go on while
    # one writes, and IMMEDIATE transactions take the write lock up front instead of
    # failing half-way with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A browser session ends after this long without a request, and this long after sign-in
# whatever happens. The cookie lives as long as the absolute limit.
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=2 * 3600)
SESSION_MAX_SECONDS = env.int("SESSION_MAX_SECONDS", default=12 * 3600)
if not 0 < SESSION_IDLE_SECONDS <= SESSION_MAX_SECONDS:
    raise ImproperlyConfigured(
        "SESSION_IDLE_SECONDS must be positive and at most SESSION_MAX_SECONDS."
    )
SESSION_COOKIE_AGE = SESSION_MAX_SECONDS

LOGIN_URL = "login"
# Django's backend signs people in; the lockout backend first refuses a locked-out
# (username, address) pair. Calls without a request (code, not a sign-in form) are not
# counted: there is no address to lock (config.accounts.LockoutBackend).
AUTHENTICATION_BACKENDS = [
    "config.accounts.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout (django-axes, decisions/0019): after AXES_FAILURE_LIMIT failed sign-ins for one
# username from one address, that pair is refused for AXES_COOLOFF_MINUTES, even with the
# right password. `manage.py axes_reset_username NAME` (or axes_reset) unlocks early.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=15)
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT and AXES_COOLOFF_MINUTES must be at least 1.")
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lock lasts AXES_COOLOFF_MINUTES from the failure that set it; tries meanwhile do not
# extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "config.accounts.lockout_response"
# Two-factor sign-in (django-otp TOTP, decisions/0020): anyone may turn it on for their
# own account; with this true it is mandatory for managers and admins of any mission and
# for staff and superusers, who are sent to enrolment before anything else.
OTP_REQUIRED_FOR_MANAGERS = env.bool("OTP_REQUIRED_FOR_MANAGERS", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Strategy Tracker")
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Time: aware datetimes everywhere ---------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Attachments and imported documents; larger uploads are refused with a clear message.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- E-mail -----------------------------------------------------------------------------
# EMAIL_URL examples: smtp://user:pass@mail.example.org:587/?tls=True, consolemail://,
# filemail:////abs/path (four slashes: django-environ drops one). The default writes each
# message to a file under var/mail/.
_email = env.email_url_config(env_secret("EMAIL_URL", default=f"filemail:///{VAR_DIR / 'mail'}"))
if _email.get("EMAIL_FILE_PATH") and not Path(_email["EMAIL_FILE_PATH"]).is_absolute():
    _email["EMAIL_FILE_PATH"] = str(BASE_DIR / _email["EMAIL_FILE_PATH"])
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Strategy Tracker <tracker@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A mail server that stops answering must not hold a claimed delivery for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- Reports and reminders ---------------------------------------------------------------
# Links in e-mails are absolute: readers follow them from their inbox.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Local hour (TIME_ZONE) on the day after a period ends from which its report is due;
# reminder digests go out from this hour on Mondays.
REPORTS_SEND_HOUR = env.int("REPORTS_SEND_HOUR", default=6)
if not 0 <= REPORTS_SEND_HOUR <= 23:
    raise ImproperlyConfigured("REPORTS_SEND_HOUR must be an hour, 0-23.")
# How often beat runs the report dispatcher (seconds).
REPORTS_DISPATCH_SECONDS = env.float("REPORTS_DISPATCH_SECONDS", default=300.0)
# Work older than this is presumed lost (message gone, worker died) and is redone by the
# dispatcher: a pending build, a pending send, a claimed send. Keep it above EMAIL_TIMEOUT.
REPORTS_STALE_SECONDS = env.int("REPORTS_STALE_SECONDS", default=600)
if REPORTS_STALE_SECONDS <= EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        f"REPORTS_STALE_SECONDS ({REPORTS_STALE_SECONDS}) must exceed EMAIL_TIMEOUT "
        f"({EMAIL_TIMEOUT}): a send still waiting on the mail server would be redone."
    )
# Attempts per e-mail before it is marked failed, and the first retry delay (doubling).
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=5)
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", default=60.0)
if DELIVERY_MAX_ATTEMPTS < 1 or DELIVERY_RETRY_BASE_SECONDS < 0:
    raise ImproperlyConfigured(
        "DELIVERY_MAX_ATTEMPTS must be at least 1 and DELIVERY_RETRY_BASE_SECONDS not negative."
    )

# --- Celery -----------------------------------------------------------------------------
# Default: the kombu filesystem transport, so `make run` needs no broker server.
CELERY_BROKER_URL = env_secret("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = VAR_DIR / "celery"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # One shared queue folder: producers and consumers must use the same one.
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# One task at a time per worker process: a long report build never holds back e-mails
# that another process could send, and acks_late tasks are not hoarded.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The beat schedule lives here and nowhere else.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "tracking.tasks.heartbeat",
        "schedule": env.float("HEARTBEAT_SECONDS", default=60.0),
    },
    # Due reports, their deliveries, and catch-up of lost work (tracking.reports.services).
    "dispatch-reports": {
        "task": "tracking.tasks.dispatch_reports",
        "schedule": REPORTS_DISPATCH_SECONDS,
    },
    # Daily, so a missed Monday is caught up; each person still gets one digest a week.
    "create-reminders": {
        "task": "tracking.tasks.create_reminders",
        "schedule": crontab(minute=5, hour=REPORTS_SEND_HOUR),
    },
}

# --- REST API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "strategy.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "strategy.api.parsers.StrictJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "strategy.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "strategy.api.base.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `?format=` belongs to the export endpoint (json|md), not to content negotiation.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Strategy Tracker API",
    "DESCRIPTION": (
        "Missions, strategies and their goal/objective tree, indicators and their periods, "
        "progress notes and their review workflow. Authenticate with "
        "`Authorization: Token <key>` (or `Bearer <key>`); create keys on the API tokens "
        "page or with `manage.py create_api_token`. Every error has the shape "
        '`{"detail": ..., "code": ..., "fields": {...}}`. Mutable resources return an '
        "`ETag`; send it back as `If-Match` to update only what you read (412 otherwise)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "strategy.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "strategy.models.Role",
        "AssessmentEnum": "tracking.models.Assessment",
        "NoteStateEnum": "tracking.models.NoteState",
    },
}
# Largest request body the API reads (bytes) and most rows one bulk upload may carry.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=10 * 1024 * 1024)
BULK_MAX_ROWS = env.int("BULK_MAX_ROWS", default=20_000)

# --- Domain settings --------------------------------------------------------------------
# U.S. federal fiscal year: FY2020 starts in October 2019.
FISCAL_YEAR_START_MONTH = env.int("FISCAL_YEAR_START_MONTH", default=10)
if not 1 <= FISCAL_YEAR_START_MONTH <= 12:
    raise ImproperlyConfigured("FISCAL_YEAR_START_MONTH must be a month number, 1-12.")
# An indicator is on track at >= 85 % of its period's expected progress, off track < 50 %.
STATUS_ON_TRACK_THRESHOLD = env.float("STATUS_ON_TRACK_THRESHOLD", default=0.85)
STATUS_OFF_TRACK_THRESHOLD = env.float("STATUS_OFF_TRACK_THRESHOLD", default=0.50)
if not 0 < STATUS_OFF_TRACK_THRESHOLD < STATUS_ON_TRACK_THRESHOLD:
    raise ImproperlyConfigured("Need 0 < STATUS_OFF_TRACK_THRESHOLD < STATUS_ON_TRACK_THRESHOLD.")
# An indicator period is late when its actual is still missing this many days after it ends.
INDICATOR_REPORTING_GRACE_DAYS = env.int("INDICATOR_REPORTING_GRACE_DAYS", default=30)
# Largest ICS document accepted for import (bytes).
ICS_IMPORT_MAX_BYTES = env.int("ICS_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
# Largest CSV or XLSX of indicator values accepted for upload, page or API (bytes).
INDICATOR_FILE_MAX_BYTES = env.int("INDICATOR_FILE_MAX_BYTES", default=5 * 1024 * 1024)

# --- Production hardening ---------------------------------------------------------------
# `manage.py check --deploy --fail-level WARNING` passes with the defaults below
# (tests/test_deploy_check.py); docs/security.md says what each one protects.
if not DEBUG:
    # Plain http is redirected to https. Behind a TLS-terminating proxy, name the header
    # it sets (SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto) so Django knows the request was
    # https; only do so if the proxy always sets it, or clients could claim https.
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    _proxy_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
    if _proxy_header:
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
    # Browsers then refuse plain http for this host (and its subdomains) for a year.
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if SECURE_HSTS_SECONDS < 0:
        raise ImproperlyConfigured("SECURE_HSTS_SECONDS must not be negative.")
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
# No script reads either cookie: forms (and htmx posts, which send the form) carry the
# CSRF token in a hidden field; Swagger UI gets it from its template.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere (page scripts are static files reading json_script
# data; htmx runs without eval or injected styles). Report charts are data: images.
# The API docs page uses drf-spectacular's split view, whose set-up script is a file too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint narrates every rendering step at INFO; its warnings still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # django-axes narrates every sign-in at INFO; lockouts (WARNING) still show, and
        # config.security logs failures and lockouts in its own words.
        "axes": {"level": "WARNING"},
    },
}
