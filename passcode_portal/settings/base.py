"""Base settings. With no environment variables set, the project runs on embedded defaults:
SQLite, and a Celery broker on the filesystem, so worker and beat need no server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

from passcode_portal.env import envbool, envint, envlist, envstr, generated_secret
from passcode_portal.settings import schedule

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime state of a development install (SQLite file, broker folders, development keys).
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

DJANGO_ENV = envstr("DJANGO_ENV", "development")
DEBUG = envbool("DEBUG", DJANGO_ENV == "development")
# Django's secret signs sessions, CSRF tokens and the no-account pass links (trucks.links), so
# whoever knows it can open any pass. Production refuses to start without SECRET_KEY
# (settings.production); elsewhere each installation generates its own on first start, kept in
# VAR_DIR like the development signing key, so no two installations share one.
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY and DJANGO_ENV != "production":
    SECRET_KEY = generated_secret(VAR_DIR / "keys" / "secret-key", get_random_secret_key)
# Old secret keys still accepted for signatures (pass links, sessions) after a rotation.
SECRET_KEY_FALLBACKS = envlist("SECRET_KEY_FALLBACKS")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "passcode_portal",
    "places",
    "trucks",
    "checkpoints",
    "notifications",
    "handover",
    "demo",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "passcode_portal.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must come last: it answers locked-out logins before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "passcode_portal.urls"
WSGI_APPLICATION = "passcode_portal.wsgi.application"
ASGI_APPLICATION = "passcode_portal.asgi.application"

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
                "dashboards.context_processors.officials",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has no row locks: take the write lock when a transaction starts, so two scans of
    # one pass are decided one after the other, as SELECT ... FOR UPDATE does on PostgreSQL.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Database sessions, as Django's, read without building a queryset (passcode_portal.sessions).
SESSION_ENGINE = "passcode_portal.sessions"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Reverse proxies in front of the app that append the client's address to X-Forwarded-For (the
# TLS proxy docker-compose expects: 1). With 0, nothing in front, the header is ignored: anyone
# may send one. Throttles (DRF's NUM_PROXIES) and sign-in lock-outs (django-axes) find the
# client's address alike, through passcode_portal.throttling.client_ip.
TRUSTED_PROXIES = envint("TRUSTED_PROXIES", 0)

# Failed logins lock out one user name from one address after AXES_FAILURE_LIMIT failures, and a
# whole address after AXES_IP_FAILURE_LIMIT (password spraying), for the sign-in page, the admin
# and the API token endpoint alike (django-axes; passcode_portal.lockout says why two limits).
AXES_ENABLED = envbool("AXES_ENABLED", True)
AXES_VERBOSE = False
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_IP_FAILURE_LIMIT = envint("AXES_IP_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "passcode_portal.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "passcode_portal.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "passcode_portal.throttling.client_ip"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = envstr("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# npm packages the pages load are served from node_modules under a prefix (never copied into the
# tree): the scan page's QR decoder, an ES module, and the .wasm it loads. The .wasm must be the
# zxing-wasm build barcode-detector pins (its JS glue fails on another); npm hoists that copy to
# the top level unless another package pins a different zxing-wasm, then it stays nested.
_ZXING_WASM = BASE_DIR / "node_modules" / "barcode-detector" / "node_modules" / "zxing-wasm"
if not _ZXING_WASM.is_dir():
    _ZXING_WASM = BASE_DIR / "node_modules" / "zxing-wasm"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/barcode-detector", BASE_DIR / "node_modules" / "barcode-detector" / "dist" / "es"),
    ("vendor/zxing-wasm", _ZXING_WASM / "dist" / "reader"),
]
# The officials' map's outline, a GeoJSON file of the deployment's own (published maps in China
# need an approval number: none ships); without it, checkpoints on plain coordinates.
DASHBOARD_MAP_GEOJSON = envstr("DASHBOARD_MAP_GEOJSON", "")

# Single npm files by static path (passcode_portal.staticfinders): the dashboard's charts, and
# the Ed25519 the scan page checks pass signatures with offline where the browser has none.
_NPM = BASE_DIR / "node_modules"
NPM_STATIC_FILES = {
    "vendor/echarts/echarts.min.js": _NPM / "echarts" / "dist" / "echarts.min.js",
    "vendor/noble-ed25519/index.js": _NPM / "@noble" / "ed25519" / "index.js",
}
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "passcode_portal.staticfinders.NpmFileFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    # DRF's token and session authentication, with the user behind each kept a few seconds in
    # the process (passcode_portal.auth): the tablet page scans with its session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "passcode_portal.auth.CachedTokenAuthentication",
        "passcode_portal.auth.CachedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's, but JSON nested too deep for json.loads is a 400 (passcode_portal.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "passcode_portal.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "passcode_portal.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "auth": envstr("THROTTLE_AUTH", "20/min"),
        # Per staff account: a handheld scanner reads a few codes a second at the most.
        "scan": envstr("THROTTLE_SCAN", "300/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Truck pass-code portal API",
    "DESCRIPTION": (
        "Register truck trips, receive signed QR pass codes, verify them at checkpoints."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs UI's assets come from our static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery. With no REDIS_URL the broker is kombu's filesystem transport: no server to install.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    # A web request that enqueues must not hang on a broker that is down: fail fast, the work
    # is already in a table and a periodic sweep sends it later (passcode_portal/tasks.py).
    {"socket_connect_timeout": 2, "socket_timeout": 5, "max_retries": 0}
    if REDIS_URL
    else {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With acks_late, a task whose worker loses the broker connection is redelivered; cancel it
# rather than let it finish twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The periodic tasks: passcode_portal/settings/schedule.py.
CELERY_BEAT_SCHEDULE = schedule.CELERY_BEAT_SCHEDULE
# Passes regraded per transaction; rows (trips, alerts) per transaction in the other lifecycle
# work; seconds a long lifecycle task works before it hands the rest to a new task (below
# CELERY_TASK_SOFT_TIME_LIMIT); and how far back in planned arrivals overdue trucks are sought.
LIFECYCLE_REGRADE_CHUNK = envint("LIFECYCLE_REGRADE_CHUNK", 500)
LIFECYCLE_BATCH = envint("LIFECYCLE_BATCH", 1000)
LIFECYCLE_TASK_BUDGET_SECONDS = envint("LIFECYCLE_TASK_BUDGET_SECONDS", 180)
LIFECYCLE_OVERDUE_LOOKBACK_DAYS = envint("LIFECYCLE_OVERDUE_LOOKBACK_DAYS", 30)

EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "passcode@localhost")

# SMS (notifications.sms): a backend by dotted path. Compose may pass SMS_BACKEND empty, so the
# default is applied after reading: the console in development; in production the HTTP gateway,
# which refuses to send (ImproperlyConfigured, shown on the outbox row) until SMS_GATEWAY_URL and
# SMS_GATEWAY_SECRET are set, rather than lose drivers' messages to a log.
SMS_BACKEND = envstr("SMS_BACKEND") or (
    "notifications.sms.HttpGatewayBackend"
    if DJANGO_ENV == "production"
    else "notifications.sms.ConsoleBackend"
)
SMS_GATEWAY_URL = envstr("SMS_GATEWAY_URL")
SMS_GATEWAY_SECRET = envstr("SMS_GATEWAY_SECRET")
# The outbox sender (notifications.sending): attempts before a notification is given up as
# failed (with backoff from 30 s doubling, 5 attempts span about 8 minutes), and rows claimed
# per statement.
NOTIFY_MAX_ATTEMPTS = envint("NOTIFY_MAX_ATTEMPTS", 5)
NOTIFY_BATCH = envint("NOTIFY_BATCH", 100)
# Hand-over webhooks (handover.delivery): attempts before a delivery is given up as failed
# (backoff from 30 s doubling: 8 attempts span about an hour), the wait for a receiver's answer,
# and deliveries claimed per statement. Plain-http receiver URLs are refused in production
# (deliveries carry personal data), except on this machine. Scans are turned into events once
# they are this many seconds old (handover.scan_events says why).
WEBHOOK_MAX_ATTEMPTS = envint("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_BATCH = envint("WEBHOOK_BATCH", 10)
WEBHOOK_ALLOW_HTTP = envbool("WEBHOOK_ALLOW_HTTP", DJANGO_ENV != "production")
WEBHOOK_SCAN_SETTLE_SECONDS = envint("WEBHOOK_SCAN_SETTLE_SECONDS", 10)
# Outbound requests (passcode_portal.http): webhook receivers whose address is private,
# loopback, link-local or otherwise not public are refused (a subscription URL must not reach
# into this network), unless this is on: for a receiver inside the network on purpose, and in
# tests with a receiver on this machine. The SMS gateway, set by the operator, is not checked.
OUTBOUND_ALLOW_PRIVATE_ADDRESSES = envbool("OUTBOUND_ALLOW_PRIVATE_ADDRESSES", False)

# Pass signing (Ed25519). PASS_SIGNING_KEY is "<key id>:<base64 of the 32-byte private seed>";
# PASS_VERIFY_KEYS lists retired keys as "<key id>:<base64 of the public key>" so passes signed
# before a rotation still verify. Development generates a key on first use into
# PASS_DEV_KEY_PATH; production refuses to start without PASS_SIGNING_KEY.
PASS_SIGNING_KEY = envstr("PASS_SIGNING_KEY")
PASS_VERIFY_KEYS = envlist("PASS_VERIFY_KEYS")
PASS_DEV_KEY_PATH = VAR_DIR / "keys" / "pass-signing.key"

# Seconds that values read on every request are kept in each process (passcode_portal.ttlcache):
# the user behind an API token or a signed-in session, checkpoints by code, the policy in force.
# A change (a revoked token, a deactivated user, a new policy) reaches every process at the
# latest this much later.
API_AUTH_CACHE_SECONDS = envint("API_AUTH_CACHE_SECONDS", 30)
HOT_CACHE_SECONDS = envint("HOT_CACHE_SECONDS", 30)

# Trip references read like JZ-20261123-000123: the issuing city's prefix, the day, a number.
TRIP_REFERENCE_PREFIX = envstr("TRIP_REFERENCE_PREFIX", "JZ")
QR_CACHE_SECONDS = envint("QR_CACHE_SECONDS", 24 * 3600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}
