"""Veza settings: one module, read once from the environment, checked at start-up.

Every value comes from an environment variable (see README "Configuration"). The
production checks live in ``veza.config.validate`` so that a misconfigured server refuses to
start with a message naming the variable, instead of running with a development default.
"""

from datetime import timedelta
from pathlib import Path

import environ

from veza.config import (
    DEV_JWT_SECRET,
    DEV_PLATFORM_ADDRESS,
    DEV_PLATFORM_LEGAL_NAME,
    DEV_SECRET_KEY,
    DEV_WEBHOOK_SECRET,
    media_storage,
    payout_crontab,
    validate,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"

env = environ.Env()

# --- environment --------------------------------------------------------------------------
APP_ENV = env.str("APP_ENV", default="development")
IS_PRODUCTION = APP_ENV == "production"
DEBUG = env.bool("DEBUG", default=APP_ENV == "development")
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"] if not IS_PRODUCTION else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- applications -------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "veza",
    "accounts",
    "audit",
    "tracks",
    "playlists",
    "marketplace",
    "invoicing",
    "payments",
    "rest_framework_api_key",
    "developer",
    "privacy",
    "moderation",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "veza.middleware.RequestIdMiddleware",
    # Outside the middlewares that can refuse a request (a bad Host, CSRF): their HTML
    # answers to API paths become JSON too.
    "veza.middleware.JsonApiErrorsMiddleware",
    "veza.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Before any admin page: a staff session must have passed the second factor.
    "accounts.second_factor.middleware.StaffSecondFactorMiddleware",
    "audit.middleware.AdminAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "veza.urls"
APPEND_SLASH = False  # contract paths have no trailing slash; never redirect a POST
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour, now
WSGI_APPLICATION = "veza.wsgi.application"
ASGI_APPLICATION = "veza.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --- database -----------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=5
    )
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # Off by default: a `SELECT 1` before a persistent connection's first use in each request
    # was one more round trip on every request that reads the database (a signed-in list's
    # third). Failover relies on the error path instead: a connection PostgreSQL dropped (a
    # restart, a failover) fails the one request that uses it (a 500; a request's statements
    # are in autocommit or a transaction that rolls back, so nothing half-done), Django marks
    # it unusable and closes it at the end of that request, and the next request connects
    # afresh. Connections also live at most CONN_MAX_AGE seconds. CONN_HEALTH_CHECKS=true
    # brings the check back where a failed request is dearer than the round trip.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.sqlite3"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        # Writers take the lock when their transaction begins: concurrent requests wait
        # (up to the timeout) instead of failing with "database is locked" on upgrade.
        timeout=20,
        transaction_mode="IMMEDIATE",
    )
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- read replicas and PgBouncer (veza.replicas; README "Scaling out") --------------------
# Behind PgBouncer in transaction mode a transaction may run on any server connection: no
# server-side cursors (a named cursor outlives its transaction's connection).
DISABLE_SERVER_SIDE_CURSORS = env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DISABLE_SERVER_SIDE_CURSORS
DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
REPLICA_STICKY_SECONDS = env.float("REPLICA_STICKY_SECONDS", default=5.0)
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=10.0)
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = environ.Env.db_url_config(_url)
    if _replica["ENGINE"] == "django.db.backends.postgresql":
        _replica["ENGINE"] = "django_prometheus.db.backends.postgresql"
        # A replica that does not answer is skipped, so it may not hold a request long.
        _replica.setdefault("OPTIONS", {})["connect_timeout"] = 2
        _replica["CONN_MAX_AGE"] = DATABASES["default"].get("CONN_MAX_AGE", 0)
        _replica["CONN_HEALTH_CHECKS"] = True
    _replica["DISABLE_SERVER_SIDE_CURSORS"] = DISABLE_SERVER_SIDE_CURSORS
    # The test runner gives a replica no database of its own: it reads the primary's.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_number}"] = _replica
if DATABASE_REPLICA_URLS:
    DATABASE_ROUTERS = ["veza.replicas.ReplicaRouter"]
    # Inside authentication (a session user's writes are remembered too), around the views.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "veza.replicas.CatalogueReadMiddleware",
    )

# --- cache, rate-limit store --------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                # When Redis drops, cache reads miss and writes are dropped (logged): rate
                # limits fail open instead of taking the API down with them.
                "IGNORE_EXCEPTIONS": True,
            },
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="veza"),
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- passwords, auth ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

JWT_SECRET = env.str("JWT_SECRET", default=DEV_JWT_SECRET)
JWT_ISSUER = env.str("JWT_ISSUER", default="veza-api")
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="veza-app")
JWT_ACCESS_TTL_MINUTES = env.int("JWT_ACCESS_TTL_MINUTES", default=15)
JWT_REFRESH_TTL_DAYS = env.int("JWT_REFRESH_TTL_DAYS", default=7)
CHAT_JWT_SECRET = env.str("CHAT_JWT_SECRET", default="") or JWT_SECRET
CHAT_TOKEN_TTL_MINUTES = env.int("CHAT_TOKEN_TTL_MINUTES", default=60)
EMAIL_TOKEN_MAX_AGE_HOURS = env.int("EMAIL_TOKEN_MAX_AGE_HOURS", default=48)
PASSWORD_RESET_MAX_AGE_HOURS = env.int("PASSWORD_RESET_MAX_AGE_HOURS", default=2)
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:5173")
# Ended (or idle past the refresh lifetime) sign-in sessions are deleted after this many days.
SESSION_RETENTION_DAYS = env.int("SESSION_RETENTION_DAYS", default=30)
# How long a token's session and user facts stay in the cache (accounts.auth_cache); every
# change invalidates them at once, this only bounds an invalidation the cache lost. 0: off.
AUTH_CACHE_SECONDS = env.int("AUTH_CACHE_SECONDS", default=300)
BYPASS_CONTENT_CREATOR_ROLE = env.bool("BYPASS_CONTENT_CREATOR_ROLE", default=False)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=JWT_ACCESS_TTL_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=JWT_REFRESH_TTL_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SECRET,
    "AUDIENCE": JWT_AUDIENCE,
    "ISSUER": JWT_ISSUER,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "TOKEN_OBTAIN_SERIALIZER": "accounts.tokens.VezaTokenObtainSerializer",
    "TOKEN_REFRESH_SERIALIZER": "accounts.tokens.VezaTokenRefreshSerializer",
}

# --- REST framework -----------------------------------------------------------------------
# Staging and production start from the seed's tighter defaults; any variable set wins.
_DEPLOYED = APP_ENV in ("staging", "production")
RATE_LIMIT_LIMIT = env.int("RATE_LIMIT_LIMIT", default=200 if _DEPLOYED else 1000)
RATE_LIMIT_WINDOW = env.int("RATE_LIMIT_WINDOW", default=60)  # seconds
AUTH_RATE_LIMIT_LOGIN_ATTEMPTS = env.int("AUTH_RATE_LIMIT_LOGIN_ATTEMPTS", default=5)
AUTH_RATE_LIMIT_LOGIN_WINDOW = env.int("AUTH_RATE_LIMIT_LOGIN_WINDOW", default=15)  # minutes
# The per-account lock (accounts.throttling.LoginFailureThrottle): far above the per-IP limit,
# and never applied to an address the account recently signed in from.
AUTH_RATE_LIMIT_ACCOUNT_ATTEMPTS = env.int("AUTH_RATE_LIMIT_ACCOUNT_ATTEMPTS", default=50)
AUTH_KNOWN_ADDRESS_DAYS = env.int("AUTH_KNOWN_ADDRESS_DAYS", default=30)
REGISTRATION_RATE_LIMIT_PER_HOUR = env.int(
    "REGISTRATION_RATE_LIMIT_PER_HOUR", default=3 if _DEPLOYED else 20
)
PASSWORD_RESET_RATE_LIMIT_PER_HOUR = env.int(
    "PASSWORD_RESET_RATE_LIMIT_PER_HOUR", default=5 if _DEPLOYED else 20
)
DISABLE_RATE_LIMIT_FOR_TESTS = env.bool("DISABLE_RATE_LIMIT_FOR_TESTS", default=False)
# How many reverse proxies append to X-Forwarded-For (veza.client_ip); 0 = trust none of it.
TRUSTED_PROXY_COUNT_RAW = env.str("TRUSTED_PROXY_COUNT", default="0").strip()
TRUSTED_PROXY_COUNT = (
    int(TRUSTED_PROXY_COUNT_RAW)
    if TRUSTED_PROXY_COUNT_RAW.isascii() and TRUSTED_PROXY_COUNT_RAW.isdigit()
    else -1  # refused by veza.config.validate below
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.VezaJWTAuthentication",
        "developer.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "veza.pagination.VezaPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "veza.throttling.GlobalRateThrottle",
        "developer.throttling.ApiKeyRateThrottle",
    ],
    "EXCEPTION_HANDLER": "veza.exceptions.exception_handler",
    # drf-spectacular's, plus each operation's API-key scope (`x-scopes`).
    "DEFAULT_SCHEMA_CLASS": "developer.openapi.VezaAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Veza API",
    "DESCRIPTION": (
        "Audio collaboration platform: accounts, tracks, playlists, a licence marketplace "
        "and refunds finalised by the payment provider's signed webhook. Errors are "
        '`{"detail", "code"}`; money is integer minor units plus an ISO-4217 currency.'
    ),
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from the package (drf-spectacular-sidecar): the docs work offline, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "WebhookDeliveryStatusEnum": "developer.models.WebhookDelivery.Status",
        "DataExportStatusEnum": "privacy.models.DataExport.Status",
        "InvoiceKindEnum": "invoicing.models.InvoiceKind",
        "ModerationStatusEnum": "moderation.models.Report.Status",
    },
}

# --- staff second factor (the back-office) -------------------------------------------------
# A TOTP code after the password for every staff member at /admin/ (accounts.second_factor).
# On by default where real staff work; explicitly off in production is allowed but warned.
STAFF_REQUIRE_2FA = env.bool("STAFF_REQUIRE_2FA", default=_DEPLOYED)
STAFF_OTP_MAX_FAILURES = env.int("STAFF_OTP_MAX_FAILURES", default=5)
STAFF_OTP_FAILURE_WINDOW = env.int("STAFF_OTP_FAILURE_WINDOW", default=15)  # minutes
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Veza")
# django-otp's own per-device backoff would refuse even a right code for a while after a wrong
# one; the audited per-account counter above (STAFF_OTP_MAX_FAILURES) limits guessing instead.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# --- developer platform: API keys, outgoing webhooks ---------------------------------------
API_KEY_RATE_LIMIT = env.int("API_KEY_RATE_LIMIT", default=600)  # requests a minute, per key
# Lets webhooks target loopback/private addresses (a local receiver); refused in production.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_SWEEP_INTERVAL = env.float("WEBHOOK_SWEEP_INTERVAL", default=60.0)  # seconds
WEBHOOK_RETENTION_DAYS = env.int("WEBHOOK_RETENTION_DAYS", default=30)
# Domain events (veza.events.emit) are written to the outbox by this recorder, in the
# transaction of the change; loaded at start-up.
EVENT_RECORDER = "developer.outbox.record_event"

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = not IS_PRODUCTION and not CORS_ALLOWED_ORIGINS

# --- internationalisation, static, media --------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
MEDIA_ROOT = env.path("UPLOAD_DIR", default=env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"
# Uploads (tracks, product files) go through Django's storage API: the local disk above, or an
# S3-compatible object store shared by every web and worker node (README "Configuration").
MEDIA_STORAGE_URL = env.str("MEDIA_STORAGE_URL", default="")
MEDIA_STORAGE, MEDIA_STORAGE_PROBLEM = media_storage(
    url=MEDIA_STORAGE_URL,
    bucket=env.str("AWS_STORAGE_BUCKET_NAME", default=""),
    endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default=""),
    region=env.str("AWS_S3_REGION_NAME", default=""),
    location=env.str("AWS_LOCATION", default=""),
)
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# With an object store: answer a licensed download with a redirect to a presigned URL of this
# many seconds (the bytes then bypass the web nodes), instead of streaming it through the app.
MEDIA_PRESIGNED_DOWNLOAD_SECONDS = env.int("MEDIA_PRESIGNED_DOWNLOAD_SECONDS", default=0)
MAX_UPLOAD_SIZE = env.int("MAX_UPLOAD_SIZE", default=100 * 1024 * 1024)
MAX_CONCURRENT_UPLOADS = env.int("MAX_CONCURRENT_UPLOADS", default=10)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
CLAMAV_ADDRESS = env.str("CLAMAV_ADDRESS", default="")
CLAMAV_REQUIRED = env.bool("CLAMAV_REQUIRED", default=False)
CLAMAV_TIMEOUT = env.float("CLAMAV_TIMEOUT", default=30.0)
TRACK_PROCESSING_TIMEOUT = env.int("TRACK_PROCESSING_TIMEOUT", default=3600)  # seconds
# Anonymous track-list pages are served from the cache until a track changes (tracks.list_cache);
# this bounds how long a change made outside the tracks services can stay unseen. 0 = off.
TRACK_LIST_CACHE_SECONDS = env.int("TRACK_LIST_CACHE_SECONDS", default=10)

# --- other Veza services ------------------------------------------------------------------
STREAM_SERVER_URL = env.str("STREAM_SERVER_URL", default="")
STREAM_SERVER_INTERNAL_API_KEY = env.str("STREAM_SERVER_INTERNAL_API_KEY", default="")
CHAT_SERVER_URL = env.str("CHAT_SERVER_URL", default="")

# --- payments -----------------------------------------------------------------------------
HYPERSWITCH_BASE_URL = env.str("HYPERSWITCH_BASE_URL", default="").rstrip("/")
HYPERSWITCH_API_KEY = env.str("HYPERSWITCH_API_KEY", default="")
HYPERSWITCH_WEBHOOK_SECRET = env.str("HYPERSWITCH_WEBHOOK_SECRET", default=DEV_WEBHOOK_SECRET)
PSP_TIMEOUT = env.float("PSP_TIMEOUT", default=10.0)
PLATFORM_FEE_PERCENT = env.int("PLATFORM_FEE_PERCENT", default=10)
DISPUTE_FEE = env.int(
    "DISPUTE_FEE", default=0
)  # minor units, debited from sellers on a lost dispute
REFUND_WINDOW_DAYS = env.int("REFUND_WINDOW_DAYS", default=14)
# Invoices and credit notes: Veza is the seller of record, so the platform is the issuer.
# Numbers read INVOICE_PREFIX-YYYY-NNNNNN (credit notes INVOICE_PREFIX-C-YYYY-NNNNNN).
INVOICE_PREFIX = env.str("INVOICE_PREFIX", default="VZ")
PLATFORM_LEGAL_NAME = env.str("PLATFORM_LEGAL_NAME", default=DEV_PLATFORM_LEGAL_NAME)
PLATFORM_ADDRESS = env.str("PLATFORM_ADDRESS", default=DEV_PLATFORM_ADDRESS)
PLATFORM_VAT_NUMBER = env.str("PLATFORM_VAT_NUMBER", default="")
# Staff refunds from the admin above this amount (minor units) wait for a second Finance member.
REFUND_APPROVAL_THRESHOLD = env.int("REFUND_APPROVAL_THRESHOLD", default=50_000)
REFUND_RECONCILE_AFTER = env.int("REFUND_RECONCILE_AFTER", default=15 * 60)  # seconds
# Seller payouts: a crontab (minute hour day-of-month month day-of-week, UTC), the least
# ``available`` worth paying out (minor units), and when a pending payout is re-read.
PAYOUT_SCHEDULE = env.str("PAYOUT_SCHEDULE", default="0 6 * * 1")
PAYOUT_MINIMUM = env.int("PAYOUT_MINIMUM", default=1000)
PAYOUT_RECONCILE_AFTER = env.int("PAYOUT_RECONCILE_AFTER", default=15 * 60)  # seconds
PAYOUT_SCHEDULE_CRONTAB = payout_crontab(PAYOUT_SCHEDULE)
SIGNED_DOWNLOAD_TTL_SECONDS = env.int("SIGNED_DOWNLOAD_TTL_SECONDS", default=300)

# --- account rights (privacy) -------------------------------------------------------------
# How long an export's signed link (and its ZIP) lives; how long an erasure waits.
EXPORT_TTL_HOURS = env.int("EXPORT_TTL_HOURS", default=72)
ACCOUNT_DELETION_GRACE_DAYS = env.int("ACCOUNT_DELETION_GRACE_DAYS", default=14)
# Base of the API links in emails (an export's download link): no request is at hand there.
API_PUBLIC_URL = env.str("API_PUBLIC_URL", default="http://localhost:8000").rstrip("/")

# --- VAT (marketplace.vat) ----------------------------------------------------------------
# The platform's own member state: a business buyer there pays domestic VAT, one of another
# member state reverse-charges it. Countries are ISO 3166-1 alpha-2, checked at start-up.
PLATFORM_COUNTRY = env.str("PLATFORM_COUNTRY", default="FR").strip().upper()
# The buyer's country when neither the order nor the profile gives one; unset by default.
DEFAULT_BILLING_COUNTRY = env.str("DEFAULT_BILLING_COUNTRY", default="").strip().upper()
# Refuse an order whose country is unknown (400 billing_country_required) instead of charging
# no VAT: the default in production.
VAT_REQUIRE_COUNTRY = env.bool("VAT_REQUIRE_COUNTRY", default=IS_PRODUCTION)
# The EU's VIES REST API (https://ec.europa.eu/taxation_customs/vies/rest-api); unset: VAT
# numbers are checked for their format and check digits only.
VIES_URL = env.str("VIES_URL", default="").rstrip("/")
VIES_TIMEOUT = env.float("VIES_TIMEOUT", default=5.0)

# --- trust and safety (moderation) --------------------------------------------------------
# Upheld copyright take-downs within twelve months that suspend uploading and selling.
MODERATION_STRIKES = env.int("MODERATION_STRIKES", default=3)
# Reports per client address per hour (on top of the global limit).
REPORT_RATE_LIMIT_PER_HOUR = env.int("REPORT_RATE_LIMIT_PER_HOUR", default=20)
# Chromaprint's fpcalc (Debian's libchromaprint-tools); production refuses to start without.
FPCALC_PATH = env.str("FPCALC_PATH", default="fpcalc")
# How much of each upload is fingerprinted (fpcalc -length): the first two minutes.
FPCALC_MAX_SECONDS = env.int("FPCALC_MAX_SECONDS", default=120)

# --- audit ------------------------------------------------------------------------------
AUDIT_SUSPICIOUS_WINDOW_HOURS = env.int("AUDIT_SUSPICIOUS_WINDOW_HOURS", default=24)
AUDIT_SUSPICIOUS_FAILED_LOGINS = env.int("AUDIT_SUSPICIOUS_FAILED_LOGINS", default=5)
AUDIT_SUSPICIOUS_REFUND_REQUESTS = env.int("AUDIT_SUSPICIOUS_REFUND_REQUESTS", default=3)
AUDIT_SUSPICIOUS_SIGNATURE_FAILURES = env.int("AUDIT_SUSPICIOUS_SIGNATURE_FAILURES", default=3)

# --- email --------------------------------------------------------------------------------
SMTP_HOST = env.str("SMTP_HOST", default="")
DEFAULT_FROM_EMAIL = env.str("SMTP_FROM", default="Veza <no-reply@veza.local>")
if SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = SMTP_HOST
    EMAIL_PORT = env.int("SMTP_PORT", default=587)
    EMAIL_HOST_USER = env.str("SMTP_USERNAME", default="")
    EMAIL_HOST_PASSWORD = env.str("SMTP_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("SMTP_USE_TLS", default=EMAIL_PORT == 587)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Deployments (or CI runs) sharing one broker keep their messages apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message a worker took but never acknowledged (the worker was SIGKILLed, its machine lost)
# goes back to the queue after this many seconds: above the longest task's time limit
# (privacy.tasks.build_export, 2 h), or a task still running would be started a second time.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
# Only the beat holding a lock with expiry in Redis sends periodic jobs (veza.beat): a second
# beat started by mistake waits, and takes over when the first one dies.
CELERY_BEAT_SCHEDULER = "veza.beat:LeaderScheduler"
BEAT_LOCK_URL = env.str("BEAT_LOCK_URL", default="") or REDIS_URL or CELERY_BROKER_URL
BEAT_LOCK_SECONDS = env.int("BEAT_LOCK_SECONDS", default=30)
# Deployments sharing one Redis keep their beats apart, as CELERY_TASK_DEFAULT_QUEUE does.
BEAT_LOCK_KEY = env.str("BEAT_LOCK_KEY", default="veza:beat-leader")
CELERY_BEAT_SCHEDULE = {
    "fail-stuck-processing-tracks": {
        "task": "tracks.tasks.fail_stuck_processing_tracks",
        "schedule": 3600.0,
    },
    "purge-expired-track-shares": {
        "task": "tracks.tasks.purge_expired_shares",
        "schedule": 24 * 3600.0,
    },
    "release-seller-money": {
        "task": "payments.tasks.release_seller_money",
        "schedule": env.float("RELEASE_INTERVAL", default=3600.0),
    },
    "run-seller-payouts": {
        "task": "payments.tasks.run_payouts",
        "schedule": PAYOUT_SCHEDULE_CRONTAB or 7 * 24 * 3600.0,
    },
    "reconcile-pending-payouts": {
        "task": "payments.tasks.reconcile_payouts",
        "schedule": env.float("PAYOUT_RECONCILE_INTERVAL", default=300.0),
    },
    "reconcile-pending-refunds": {
        "task": "payments.tasks.reconcile_refunds",
        "schedule": env.float("REFUND_RECONCILE_INTERVAL", default=300.0),
    },
    "sweep-dispute-evidence": {
        "task": "payments.tasks.sweep_dispute_evidence",
        "schedule": 600.0,
    },
    "sweep-webhook-outbox": {
        "task": "developer.tasks.sweep_outbox",
        "schedule": WEBHOOK_SWEEP_INTERVAL,
    },
    "purge-delivered-webhook-events": {
        "task": "developer.tasks.purge_delivered_events",
        "schedule": 24 * 3600.0,
    },
    "expire-data-exports": {
        "task": "privacy.tasks.expire_exports",
        "schedule": 3600.0,
    },
    "erase-due-accounts": {
        "task": "privacy.tasks.erase_due_accounts",
        "schedule": 3600.0,
    },
    "purge-old-sessions": {
        "task": "accounts.tasks.purge_old_sessions",
        "schedule": 24 * 3600.0,
    },
    "lift-lapsed-suspensions": {
        "task": "moderation.tasks.lift_lapsed_suspensions",
        "schedule": 24 * 3600.0,
    },
    "flush-expired-jwt": {
        "task": "accounts.tasks.flush_expired_tokens",
        "schedule": 24 * 3600.0,
    },
    "purge-task-effects": {
        "task": "veza.tasks.purge_task_effects",
        "schedule": 24 * 3600.0,
    },
}

# --- deploys (gunicorn.conf.py) ----------------------------------------------------------
# gunicorn creates this file when it is told to stop: /readyz then answers 503 so that the
# load balancer takes the replica out before its socket closes (README "Scaling out").
DRAIN_FLAG_FILE = env.str("VEZA_DRAIN_FILE", default="")

# --- observability ------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str(
    "LOG_FORMAT", default="json" if APP_ENV in ("production", "staging") else "plain"
)
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default=APP_ENV)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "veza.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "veza.logging.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT if LOG_FORMAT in ("plain", "json") else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "WARNING" if APP_ENV == "test" else "INFO"},
        # 4xx lines would repeat veza.request's line with the raw path (a share link's token);
        # server errors are still logged, with their traceback.
        "django.request": {"level": "ERROR"},
    },
}

# --- security (production values switched on by APP_ENV, not by a separate code path) ----
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
SESSION_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SECURE = IS_PRODUCTION
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = IS_PRODUCTION
SECURE_HSTS_PRELOAD = IS_PRODUCTION
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^health$", r"^metrics$"]

validate(globals())

if SENTRY_DSN:  # pragma: no cover - needs a Sentry project
    from veza.observability import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=VERSION,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )
