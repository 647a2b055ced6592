"""Start-up validation of the settings: the production checks in one place.

``validate`` is called at the end of ``veza.settings`` with the module's globals. It raises
``ImproperlyConfigured`` listing every problem at once, so an operator fixes them in one go.
"""

import logging
import shutil
from urllib.parse import parse_qsl, unquote, urlsplit

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from veza.countries import country_code, in_eu

DEV_SECRET_KEY = "dev-insecure-django-secret-key-do-not-use-in-production"
DEV_JWT_SECRET = "dev-insecure-jwt-secret-do-not-use-in-production-000"
DEV_WEBHOOK_SECRET = "dev-webhook-secret-change-me-0123456789"
# The issuer printed on development invoices; production must name the real company.
DEV_PLATFORM_LEGAL_NAME = "Veza SAS (development)"
DEV_PLATFORM_ADDRESS = "1 rue de l'Exemple, 75001 Paris, France"
APP_ENVS = ("development", "test", "staging", "production")
MIN_JWT_SECRET_LENGTH = 32
# The longest time limit of any task (privacy.tasks.build_export); a test holds every
# registered task to it, so the broker's visibility timeout can be checked here, at start-up.
LONGEST_TASK_SECONDS = 2 * 3600

logger = logging.getLogger(__name__)


def payout_crontab(schedule: str) -> crontab | None:
    """``PAYOUT_SCHEDULE`` ("minute hour day-of-month month day-of-week", UTC) as a Celery
    crontab, or None when it is not one (``validate`` then refuses to start)."""
    fields = schedule.split()
    if len(fields) != 5:
        return None
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        return crontab(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
        )
    except (ValueError, TypeError):
        return None


FILE_STORAGE_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_STORAGE_BACKEND = "storages.backends.s3.S3Storage"
# MEDIA_STORAGE_URL query parameter → django-storages S3Storage option.
S3_URL_OPTIONS = {
    "endpoint_url": "endpoint_url",
    "region": "region_name",
    "region_name": "region_name",
    "addressing_style": "addressing_style",
    "location": "location",
    "custom_domain": "custom_domain",
}


def media_storage(
    *,
    url: str = "",
    bucket: str = "",
    endpoint_url: str = "",
    region: str = "",
    location: str = "",
) -> tuple[dict, str | None]:
    """The ``STORAGES["default"]`` entry for uploads, and a problem when the values are not
    usable. An S3 bucket when ``MEDIA_STORAGE_URL`` (``s3://[key:secret@]bucket[/prefix]?
    endpoint_url=...&region=...``) or ``AWS_STORAGE_BUCKET_NAME`` is set, the local disk
    (``MEDIA_ROOT``) otherwise. Credentials not in the URL come from boto3's usual sources
    (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, an instance role)."""
    options: dict = {}
    if url:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.hostname:
            return {"BACKEND": FILE_STORAGE_BACKEND}, (
                "MEDIA_STORAGE_URL must look like s3://bucket?endpoint_url=...&region=..."
            )
        options["bucket_name"] = parts.hostname
        if parts.username:
            options["access_key"] = unquote(parts.username)
            options["secret_key"] = unquote(parts.password or "")
        if parts.path.strip("/"):
            options["location"] = parts.path.strip("/")
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key not in S3_URL_OPTIONS:
                known = ", ".join(sorted(S3_URL_OPTIONS))
                return {"BACKEND": FILE_STORAGE_BACKEND}, (
                    f"MEDIA_STORAGE_URL has an unknown parameter {key!r} (known: {known})."
                )
            options[S3_URL_OPTIONS[key]] = value
    elif bucket:
        options["bucket_name"] = bucket
        if endpoint_url:
            options["endpoint_url"] = endpoint_url
        if region:
            options["region_name"] = region
        if location:
            options["location"] = location
    else:
        return {"BACKEND": FILE_STORAGE_BACKEND}, None
    # A self-hosted object store (MinIO, Ceph) is reached by path: bucket.host would need DNS.
    if options.get("endpoint_url"):
        options.setdefault("addressing_style", "path")
    # Objects stay private: buyers reach them only through the API's licence check.
    options.update(default_acl=None, querystring_auth=True)
    return {"BACKEND": S3_STORAGE_BACKEND, "OPTIONS": options}, None


def problems(settings: dict) -> list[str]:
    found: list[str] = []
    app_env = settings["APP_ENV"]
    if app_env not in APP_ENVS:
        found.append(f"APP_ENV must be one of {', '.join(APP_ENVS)} (got {app_env!r}).")
    if len(settings["JWT_SECRET"]) < MIN_JWT_SECRET_LENGTH:
        found.append(f"JWT_SECRET must be at least {MIN_JWT_SECRET_LENGTH} characters long.")
    if len(settings["CHAT_JWT_SECRET"]) < MIN_JWT_SECRET_LENGTH:
        found.append(f"CHAT_JWT_SECRET must be at least {MIN_JWT_SECRET_LENGTH} characters long.")
    if settings["PLATFORM_FEE_PERCENT"] not in range(0, 101):
        found.append("PLATFORM_FEE_PERCENT must be between 0 and 100.")
    if settings.get("DISPUTE_FEE", 0) < 0:
        found.append("DISPUTE_FEE must be zero or a positive amount of minor units.")
    if settings.get("REFUND_APPROVAL_THRESHOLD", 0) < 0:
        found.append("REFUND_APPROVAL_THRESHOLD must be zero or a positive amount of minor units.")
    if settings["PSP_TIMEOUT"] <= 0:
        found.append("PSP_TIMEOUT must be a positive number of seconds.")
    if "PAYOUT_SCHEDULE" in settings and settings.get("PAYOUT_SCHEDULE_CRONTAB") is None:
        found.append(
            "PAYOUT_SCHEDULE must be a crontab: minute hour day-of-month month day-of-week "
            f"(got {settings.get('PAYOUT_SCHEDULE')!r})."
        )
    if settings.get("PAYOUT_MINIMUM", 0) < 1:
        found.append("PAYOUT_MINIMUM must be at least 1 (minor units).")
    if settings.get("PAYOUT_RECONCILE_AFTER", 1) <= 0:
        found.append("PAYOUT_RECONCILE_AFTER must be a positive number of seconds.")
    if settings.get("API_KEY_RATE_LIMIT", 1) < 1:
        found.append("API_KEY_RATE_LIMIT must be at least 1 (requests a minute, per key).")
    if settings["MAX_UPLOAD_SIZE"] <= 0 or settings["MAX_CONCURRENT_UPLOADS"] <= 0:
        found.append("MAX_UPLOAD_SIZE and MAX_CONCURRENT_UPLOADS must be positive.")
    if settings["TRUSTED_PROXY_COUNT"] < 0:
        found.append(
            "TRUSTED_PROXY_COUNT must be a whole number >= 0 "
            f"(got {settings['TRUSTED_PROXY_COUNT_RAW']!r})."
        )
    if settings.get("EXPORT_TTL_HOURS", 1) < 1:
        found.append("EXPORT_TTL_HOURS must be at least 1.")
    if settings.get("ACCOUNT_DELETION_GRACE_DAYS", 0) < 0:
        found.append("ACCOUNT_DELETION_GRACE_DAYS must be zero or a positive number of days.")
    otp_limits = ("STAFF_OTP_MAX_FAILURES", "STAFF_OTP_FAILURE_WINDOW")
    if min(settings.get(name, 1) for name in otp_limits) < 1:
        found.append("STAFF_OTP_MAX_FAILURES and STAFF_OTP_FAILURE_WINDOW must be at least 1.")
    found.extend(_vat_problems(settings))
    if settings.get("MODERATION_STRIKES", 1) < 1:
        found.append("MODERATION_STRIKES must be at least 1.")
    if settings.get("REPORT_RATE_LIMIT_PER_HOUR", 1) < 1:
        found.append("REPORT_RATE_LIMIT_PER_HOUR must be at least 1.")
    found.extend(_replica_problems(settings))
    if settings.get("MEDIA_STORAGE_PROBLEM"):
        found.append(settings["MEDIA_STORAGE_PROBLEM"])
    if settings["CLAMAV_REQUIRED"] and not settings["CLAMAV_ADDRESS"]:
        found.append("CLAMAV_REQUIRED=true needs CLAMAV_ADDRESS (host:port or a unix socket path).")
    if app_env == "production":
        found.extend(_production_problems(settings))
    return found


def _replica_problems(settings: dict) -> list[str]:
    found = []
    if settings.get("REPLICA_STICKY_SECONDS", 0) < 0:
        found.append("REPLICA_STICKY_SECONDS must be zero or a positive number of seconds.")
    if settings.get("REPLICA_MAX_LAG_SECONDS", 1) <= 0:
        found.append("REPLICA_MAX_LAG_SECONDS must be a positive number of seconds.")
    databases = settings.get("DATABASES", {})
    primary = databases.get("default", {}).get("ENGINE", "")
    for alias, database in databases.items():
        if alias != "default" and not database.get("ENGINE", "").endswith("postgresql"):
            found.append(
                f"DATABASE_REPLICA_URLS must name PostgreSQL streaming replicas ({alias} is "
                f"{database.get('ENGINE', '?')})."
            )
    if settings.get("DATABASE_REPLICA_URLS") and not primary.endswith("postgresql"):
        found.append("DATABASE_REPLICA_URLS needs DATABASE_URL to name their PostgreSQL primary.")
    if settings.get("DATABASE_REPLICA_URLS") and not settings.get("REDIS_URL"):
        found.append(
            "DATABASE_REPLICA_URLS needs REDIS_URL: every web replica must see which clients "
            "just wrote and the last write's position, or readers would get stale pages."
        )
    longest = max(LONGEST_TASK_SECONDS, settings.get("CELERY_TASK_TIME_LIMIT") or 0)
    visibility = settings.get("CELERY_VISIBILITY_TIMEOUT")
    if visibility is not None and visibility <= longest:
        found.append(
            f"CELERY_VISIBILITY_TIMEOUT ({visibility} s) must be above the longest task's time "
            f"limit ({longest} s): a task still running would be delivered a second time."
        )
    if settings.get("BEAT_LOCK_SECONDS", 30) < 5:
        found.append("BEAT_LOCK_SECONDS must be at least 5.")
    return found


def _vat_problems(settings: dict) -> list[str]:
    found = []
    platform = settings.get("PLATFORM_COUNTRY", "FR")
    if country_code(platform) is None or not in_eu(platform):
        found.append(
            "PLATFORM_COUNTRY must be the ISO 3166-1 alpha-2 code of an EU member state "
            f"(got {platform!r})."
        )
    default = settings.get("DEFAULT_BILLING_COUNTRY", "")
    if default and country_code(default) is None:
        found.append(
            "DEFAULT_BILLING_COUNTRY must be an ISO 3166-1 alpha-2 code or unset "
            f"(got {default!r})."
        )
    if settings.get("VIES_TIMEOUT", 1) <= 0:
        found.append("VIES_TIMEOUT must be a positive number of seconds.")
    vies_url = settings.get("VIES_URL", "")
    if vies_url and urlsplit(vies_url).scheme not in ("http", "https"):
        found.append(f"VIES_URL must be an http(s) URL (got {vies_url!r}).")
    return found


def _production_problems(settings: dict) -> list[str]:
    found = []
    if settings["JWT_SECRET"] == DEV_JWT_SECRET:
        found.append("JWT_SECRET still has the development default; set a real secret.")
    if settings["SECRET_KEY"] == DEV_SECRET_KEY:
        found.append("DJANGO_SECRET_KEY still has the development default; set a real secret.")
    if settings["DEBUG"]:
        found.append("DEBUG must be false in production.")
    if not settings["CORS_ALLOWED_ORIGINS"]:
        found.append("CORS_ALLOWED_ORIGINS is required in production.")
    if not settings["ALLOWED_HOSTS"]:
        found.append("ALLOWED_HOSTS is required in production.")
    if not settings["HYPERSWITCH_BASE_URL"]:
        found.append(
            "HYPERSWITCH_BASE_URL is required in production: the sandbox payment provider "
            "is for development only."
        )
    if not settings["HYPERSWITCH_API_KEY"]:
        found.append("HYPERSWITCH_API_KEY is required in production.")
    if settings["HYPERSWITCH_WEBHOOK_SECRET"] == DEV_WEBHOOK_SECRET:
        found.append("HYPERSWITCH_WEBHOOK_SECRET still has the development default.")
    if settings["BYPASS_CONTENT_CREATOR_ROLE"]:
        found.append("BYPASS_CONTENT_CREATOR_ROLE must not be set in production.")
    if settings["DISABLE_RATE_LIMIT_FOR_TESTS"]:
        found.append("DISABLE_RATE_LIMIT_FOR_TESTS must not be set in production.")
    if settings.get("WEBHOOK_ALLOW_PRIVATE_TARGETS"):
        found.append(
            "WEBHOOK_ALLOW_PRIVATE_TARGETS must not be set in production: webhooks would reach "
            "the servers' own network."
        )
    if not settings.get("PLATFORM_VAT_NUMBER"):
        found.append(
            "PLATFORM_VAT_NUMBER is required in production: every invoice shows the issuer's "
            "VAT identification number."
        )
    if settings.get("PLATFORM_LEGAL_NAME") in ("", DEV_PLATFORM_LEGAL_NAME):
        found.append("PLATFORM_LEGAL_NAME is required in production (the issuer of invoices).")
    if settings.get("PLATFORM_ADDRESS") in ("", DEV_PLATFORM_ADDRESS):
        found.append("PLATFORM_ADDRESS is required in production (the issuer's address).")
    if settings["DATABASES"]["default"]["ENGINE"].endswith("sqlite3"):
        found.append("DATABASE_URL must point at PostgreSQL in production, not SQLite.")
    if _fpcalc_missing(settings):
        found.append(
            f"fpcalc not found (FPCALC_PATH={settings['FPCALC_PATH']!r}): install Debian's "
            "libchromaprint-tools; without it a recording taken down for copyright can be "
            "uploaded again re-encoded."
        )
    return found


def _fpcalc_missing(settings: dict) -> bool:
    return "FPCALC_PATH" in settings and shutil.which(settings["FPCALC_PATH"]) is None


def warnings(settings: dict) -> list[str]:
    """Allowed, but worth a line in the log at every start."""
    found = []
    if settings["APP_ENV"] != "production" and _fpcalc_missing(settings):
        found.append(
            f"fpcalc not found (FPCALC_PATH={settings['FPCALC_PATH']!r}): re-uploads of "
            "recordings taken down for copyright are recognised only as the same file "
            "(Debian's libchromaprint-tools provides it)."
        )
    if settings["APP_ENV"] in ("staging", "production") and not settings.get(
        "STAFF_REQUIRE_2FA", True
    ):
        found.append(
            f"STAFF_REQUIRE_2FA is off in {settings['APP_ENV']}: the back-office asks staff "
            "for their password only."
        )
    return found


def validate(settings: dict) -> None:
    for warning in warnings(settings):
        logger.warning("%s", warning)
    found = problems(settings)
    if found:
        raise ImproperlyConfigured(
            "Veza refuses to start with this configuration:\n  - " + "\n  - ".join(found)
        )
