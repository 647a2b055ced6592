"""``manage.py check --deploy`` is clean under a production configuration."""

import os
import subprocess
import sys

from tests.ops.conftest import ROOT

PRODUCTION = {
    "APP_ENV": "production",
    "DEBUG": "false",
    "DJANGO_SECRET_KEY": "k8#Zq!v2Lm@9xR$w4Tb&7Yc*3Nd^6Pf(1Gh)5Js-0Ku+Ae=Wi~Oe_rT",
    "JWT_SECRET": "jwt-" + "Q7v!x9Lp2Zr4" * 3,
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


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_", "SECURE_", "DEBUG"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "veza.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_would_catch_a_weakened_configuration():
    """The check above is not vacuous: switching HSTS off is reported."""
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "SECURE_HSTS_SECONDS": "0", "SECURE_SSL_REDIRECT": "false"},
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout
    assert "security.W008" in result.stderr + result.stdout


def test_probes_answer_over_plain_http_in_production():
    code = (
        "import django; django.setup(); from django.test import Client; c = Client(); "
        "print(c.get('/healthz', HTTP_HOST='api.veza.example').status_code, "
        "c.get('/api/v1/auth/me', HTTP_HOST='api.veza.example').status_code, "
        "c.get('/api/v1/auth/me', HTTP_HOST='api.veza.example', "
        "HTTP_X_FORWARDED_PROTO='https').status_code)"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "veza.settings", **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # Probes are exempt from the HTTPS redirect; the API is redirected unless the proxy says
    # the original request was HTTPS (then 401: no credentials).
    assert result.stdout.split() == ["200", "301", "401"]
