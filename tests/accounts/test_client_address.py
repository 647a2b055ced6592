"""Per-IP limits count the client's real address: a client-sent X-Forwarded-For is never
believed unless TRUSTED_PROXY_COUNT says proxies append to it, and then only their part."""

import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from accounts.models import User
from audit.models import AuditLog
from tests.ops.conftest import ROOT
from veza.client_ip import client_ip
from veza.config import problems

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
RESET_REQUEST = "/api/v1/auth/password/reset-request"


def _fail_login(api_client, n: int, xff: str):
    # A different unknown email each time: only the per-IP counter can stop these.
    return api_client.post(
        LOGIN,
        {"email": f"nobody{n}@example.test", "password": "wrong-password-0"},
        HTTP_X_FORWARDED_FOR=xff,
    )


def _register(api_client, n: int, xff: str):
    return api_client.post(
        REGISTER,
        {"email": f"new{n}@example.test", "username": f"new{n}", "password": "a-Strong-pass-99"},
        HTTP_X_FORWARDED_FOR=xff,
    )


def test_forty_failed_logins_with_changing_forwarded_for_hit_429_by_default(api_client, settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert settings.AUTH_RATE_LIMIT_LOGIN_ATTEMPTS == 5
    codes = [_fail_login(api_client, n, f"198.51.100.{n}").status_code for n in range(40)]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429] * 35
    # Every failure that got through was recorded against the socket address, not the header.
    assert set(
        AuditLog.objects.filter(action="auth.login_failed").values_list("ip_address", flat=True)
    ) == {"127.0.0.1"}


def test_with_one_trusted_proxy_the_rightmost_forwarded_address_is_the_client(api_client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        # The left part is whatever the client wrote; the proxy appended 203.0.113.9.
        assert _fail_login(api_client, n, f"10.9.9.{n}, 203.0.113.9").status_code == 401
    assert _fail_login(api_client, 5, "1.1.1.1, 203.0.113.9").status_code == 429
    assert _fail_login(api_client, 6, "203.0.113.10").status_code == 401
    assert set(
        AuditLog.objects.filter(action="auth.login_failed").values_list("ip_address", flat=True)
    ) == {"203.0.113.9", "203.0.113.10"}


def test_registrations_are_limited_per_socket_address_whatever_the_header(api_client, settings):
    settings.REGISTRATION_RATE_LIMIT_PER_HOUR = 2
    codes = [_register(api_client, n, f"198.51.100.{n}").status_code for n in range(5)]
    assert codes == [201, 201, 429, 429, 429]
    assert User.objects.filter(username__startswith="new").count() == 2


def test_registrations_count_the_proxy_reported_client_with_a_trusted_proxy(api_client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.REGISTRATION_RATE_LIMIT_PER_HOUR = 1
    assert _register(api_client, 0, "203.0.113.1").status_code == 201
    assert _register(api_client, 1, "9.9.9.9, 203.0.113.1").status_code == 429
    assert _register(api_client, 2, "203.0.113.2").status_code == 201
    assert set(
        User.objects.filter(username__startswith="new").values_list("username", flat=True)
    ) == {
        "new0",
        "new2",
    }


def test_password_reset_requests_are_limited_per_socket_address_whatever_the_header(
    api_client, settings
):
    settings.PASSWORD_RESET_RATE_LIMIT_PER_HOUR = 2
    codes = [
        api_client.post(
            RESET_REQUEST, {"email": f"x{n}@example.test"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        ).status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 429, 429]


def test_password_reset_requests_count_the_proxy_reported_client(api_client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PASSWORD_RESET_RATE_LIMIT_PER_HOUR = 1

    def ask(xff):
        return api_client.post(
            RESET_REQUEST, {"email": "x@example.test"}, HTTP_X_FORWARDED_FOR=xff
        ).status_code

    assert [ask("203.0.113.1"), ask("5.5.5.5, 203.0.113.1"), ask("203.0.113.2")] == [
        200,
        429,
        200,
    ]


def test_registration_and_password_reset_have_separate_counters(api_client, settings):
    settings.REGISTRATION_RATE_LIMIT_PER_HOUR = 1
    settings.PASSWORD_RESET_RATE_LIMIT_PER_HOUR = 1
    assert api_client.post(RESET_REQUEST, {"email": "x@example.test"}).status_code == 200
    assert _register(api_client, 0, "").status_code == 201
    assert api_client.post(RESET_REQUEST, {"email": "x@example.test"}).status_code == 429
    assert _register(api_client, 1, "").status_code == 429
    assert User.objects.filter(username="new0").exists()
    assert not User.objects.filter(username="new1").exists()


def test_global_anonymous_limit_ignores_a_changing_forwarded_for(api_client, settings):
    settings.RATE_LIMIT_LIMIT = 3
    url = "/api/v1/auth/check-username?username=someone"
    codes = [api_client.get(url, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]


@pytest.mark.parametrize(
    "count, remote, xff, expected",
    [
        (0, "192.0.2.1", "203.0.113.5", "192.0.2.1"),
        (1, "192.0.2.1", "", "192.0.2.1"),
        (1, "192.0.2.1", "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        (2, "192.0.2.1", "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (3, "192.0.2.1", "203.0.113.5, 10.0.0.2", "203.0.113.5"),  # fewer hops than proxies
        (1, "192.0.2.1", "not-an-ip", "192.0.2.1"),
        (1, "192.0.2.1", "203.0.113.5:4711", "203.0.113.5"),
        (1, "192.0.2.1", "[2001:db8::1]:443", "2001:db8::1"),
        (1, "192.0.2.1", "2001:DB8::0:1", "2001:db8::1"),
        (1, "192.0.2.1", "a\x00b", "192.0.2.1"),
    ],
)
def test_client_ip_reads_the_nth_forwarded_address_from_the_right(
    settings, count, remote, xff, expected
):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=xff)
    assert client_ip(request) == expected


def test_request_log_line_carries_the_trusted_client_address(api_client, settings, caplog):
    settings.TRUSTED_PROXY_COUNT = 1
    with caplog.at_level("INFO", logger="veza.request"):
        api_client.get(
            "/api/v1/auth/check-username?username=x", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.8"
        )
    (line,) = [r for r in caplog.records if r.name == "veza.request"]
    assert line.client_ip == "203.0.113.8"


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "²"])
def test_an_invalid_trusted_proxy_count_is_refused_at_start_up(value):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "veza.settings",
            "APP_ENV": "test",
            "TRUSTED_PROXY_COUNT": value,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be a whole number >= 0" in result.stderr


def test_a_valid_trusted_proxy_count_passes_validation(settings):
    from django.conf import settings as live

    values = {name: getattr(live, name) for name in dir(live) if name.isupper()}
    assert problems({**values, "TRUSTED_PROXY_COUNT": 2, "TRUSTED_PROXY_COUNT_RAW": "2"}) == []
    assert problems({**values, "TRUSTED_PROXY_COUNT": -1, "TRUSTED_PROXY_COUNT_RAW": "x"}) != []
