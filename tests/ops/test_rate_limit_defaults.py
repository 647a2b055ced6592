"""Staging and production start from the seed's tighter rate limits; a set variable wins."""

import json
import os
import subprocess
import sys

import pytest

from tests.ops.conftest import ROOT
from tests.ops.test_deploy_checks import PRODUCTION

NAMES = (
    "RATE_LIMIT_LIMIT",
    "RATE_LIMIT_WINDOW",
    "REGISTRATION_RATE_LIMIT_PER_HOUR",
    "PASSWORD_RESET_RATE_LIMIT_PER_HOUR",
    "TRUSTED_PROXY_COUNT",
)


def _limits(env: dict) -> dict:
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {NAMES!r}}}))"
    )
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DATABASE_URL", "REDIS_URL", "RATE_LIMIT", "REGISTRATION_", "PASSWORD_")
        )
        and k not in ("APP_ENV", "TRUSTED_PROXY_COUNT")
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "veza.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("env", [{"APP_ENV": "staging"}, PRODUCTION], ids=["staging", "production"])
def test_deployed_environments_default_to_the_seeds_limits(env):
    assert _limits(env) == {
        "RATE_LIMIT_LIMIT": 200,
        "RATE_LIMIT_WINDOW": 60,
        "REGISTRATION_RATE_LIMIT_PER_HOUR": 3,
        "PASSWORD_RESET_RATE_LIMIT_PER_HOUR": 5,
        "TRUSTED_PROXY_COUNT": 0,
    }


def test_development_keeps_its_looser_defaults():
    limits = _limits({"APP_ENV": "development"})
    assert limits["RATE_LIMIT_LIMIT"] == 1000
    assert limits["REGISTRATION_RATE_LIMIT_PER_HOUR"] == 20


def test_a_set_variable_wins_over_the_production_default():
    limits = _limits(
        {
            **PRODUCTION,
            "RATE_LIMIT_LIMIT": "500",
            "REGISTRATION_RATE_LIMIT_PER_HOUR": "10",
            "PASSWORD_RESET_RATE_LIMIT_PER_HOUR": "7",
            "TRUSTED_PROXY_COUNT": "2",
        }
    )
    assert limits["RATE_LIMIT_LIMIT"] == 500
    assert limits["REGISTRATION_RATE_LIMIT_PER_HOUR"] == 10
    assert limits["PASSWORD_RESET_RATE_LIMIT_PER_HOUR"] == 7
    assert limits["TRUSTED_PROXY_COUNT"] == 2
