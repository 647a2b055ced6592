import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_health_endpoints(api_client, db):
    assert api_client.get("/health").json() == {"status": "ok"}
    assert api_client.get("/healthz").status_code == 200
    ready = api_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["status"] == "ok"


def test_status_reports_dependencies_and_version(api_client, db):
    body = api_client.get("/status").json()
    assert body["version"]
    assert set(body["dependencies"]) == {
        "database",
        "cache",
        "broker",
        "chat_server",
        "stream_server",
    }
    assert body["dependencies"]["database"]["status"] == "ok"


def test_metrics_exposes_business_counters(api_client, db):
    response = api_client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert "veza_users_registered_total" in text
    assert "django_http_requests_total_by_view_transport_method" in text


def test_schema_and_docs_render(api_client, db):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/auth/login" in paths
    assert "/api/v1/users/{id}" in paths
    docs = api_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_unknown_api_path_is_json_404(api_client, db):
    response = api_client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_request_id_is_echoed_or_generated(api_client, db):
    assert api_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    assert len(api_client.get("/healthz")["X-Request-ID"]) == 32


def _django(env_overrides: dict, code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "veza.settings"}, **env_overrides)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION_OK = {
    "APP_ENV": "production",
    "DEBUG": "false",
    "JWT_SECRET": "p" * 40,
    "DJANGO_SECRET_KEY": "s" * 50,
    "CORS_ALLOWED_ORIGINS": "https://app.veza.example",
    "ALLOWED_HOSTS": "api.veza.example",
    "HYPERSWITCH_BASE_URL": "https://psp.example",
    "HYPERSWITCH_API_KEY": "key",
    "HYPERSWITCH_WEBHOOK_SECRET": "w" * 40,
    "DATABASE_URL": "postgres://veza@127.0.0.1:5432/veza",
    "PLATFORM_LEGAL_NAME": "Veza SAS",
    "PLATFORM_ADDRESS": "1 place de la Bourse, 75002 Paris, France",
    "PLATFORM_VAT_NUMBER": "FR40303265045",
}


def test_valid_production_configuration_starts():
    result = _django(PRODUCTION_OK, "print('started')")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"APP_ENV": "development", "JWT_SECRET": "short"}, "JWT_SECRET must be at least 32"),
        ({"CORS_ALLOWED_ORIGINS": ""}, "CORS_ALLOWED_ORIGINS is required in production"),
        ({"JWT_SECRET": ""}, "JWT_SECRET still has the development default"),
        ({"JWT_SECRET": "x" * 31}, "JWT_SECRET must be at least 32"),
        ({"DEBUG": "true"}, "DEBUG must be false in production"),
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY still has the development default"),
        ({"HYPERSWITCH_BASE_URL": ""}, "sandbox payment provider is for development only"),
        (
            {"HYPERSWITCH_WEBHOOK_SECRET": ""},
            "HYPERSWITCH_WEBHOOK_SECRET still has the development",
        ),
        ({"BYPASS_CONTENT_CREATOR_ROLE": "true"}, "BYPASS_CONTENT_CREATOR_ROLE must not be set"),
        ({"DATABASE_URL": ""}, "must point at PostgreSQL in production"),
        ({"APP_ENV": "prod"}, "APP_ENV must be one of"),
        ({"PAYOUT_SCHEDULE": "every monday"}, "PAYOUT_SCHEDULE must be a crontab"),
        ({"PAYOUT_SCHEDULE": "0 25 * * 1"}, "PAYOUT_SCHEDULE must be a crontab"),
        ({"PAYOUT_MINIMUM": "0"}, "PAYOUT_MINIMUM must be at least 1"),
        ({"PLATFORM_COUNTRY": "XX"}, "PLATFORM_COUNTRY must be the ISO 3166-1 alpha-2 code"),
        ({"PLATFORM_COUNTRY": "US"}, "PLATFORM_COUNTRY must be the ISO 3166-1 alpha-2 code"),
        ({"DEFAULT_BILLING_COUNTRY": "ZZ"}, "DEFAULT_BILLING_COUNTRY must be an ISO 3166-1"),
        ({"VIES_TIMEOUT": "0"}, "VIES_TIMEOUT must be a positive number"),
        ({"VIES_URL": "ec.europa.eu/vies"}, "VIES_URL must be an http(s) URL"),
        ({"PLATFORM_VAT_NUMBER": ""}, "PLATFORM_VAT_NUMBER is required in production"),
        ({"PLATFORM_LEGAL_NAME": ""}, "PLATFORM_LEGAL_NAME is required in production"),
        ({"PLATFORM_ADDRESS": ""}, "PLATFORM_ADDRESS is required in production"),
    ],
)
def test_start_up_refuses_bad_configuration(overrides, message):
    env = {**PRODUCTION_OK, **overrides}
    env = {k: v for k, v in env.items() if v != ""}  # "" = unset: the development default applies
    result = _django(env, "print('started')")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    assert "started" not in result.stdout


def test_readyz_is_503_naming_the_database_when_it_is_unreachable():
    code = (
        "from django.test import Client; r = Client().get('/readyz'); "
        "print(r.status_code, r.json()['failing'])"
    )
    result = _django(
        {"APP_ENV": "test", "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing"}, code
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "503 ['database']"


def test_production_requires_a_billing_country_by_default():
    code = "from django.conf import settings; print(settings.VAT_REQUIRE_COUNTRY)"
    assert _django(PRODUCTION_OK, code).stdout.strip() == "True"
    assert _django({"APP_ENV": "development"}, code).stdout.strip() == "False"
    overridden = {**PRODUCTION_OK, "VAT_REQUIRE_COUNTRY": "false"}
    assert _django(overridden, code).stdout.strip() == "False"
