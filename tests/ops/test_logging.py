"""Log lines: JSON in production with the request id on every line, and never a secret."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings

from accounts.models import User
from accounts.services import make_password_reset_token
from tests.ops.conftest import ROOT
from veza.logging import JsonFormatter, RequestIdFilter, request_id_var


@pytest.fixture
def json_log():
    """Root logs to a buffer through the production JSON formatter and request-id filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(settings.LOGGING["formatters"]["json"]["fmt"]))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line]
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)


def test_request_log_line_is_json_with_the_request_id_and_no_query_string(api_client, db, json_log):
    response = api_client.get(
        "/api/v1/auth/check-username",
        {"username": "secret-looking-query"},
        HTTP_X_REQUEST_ID="test-rid-123",
    )
    assert response.status_code == 200

    lines = [line for line in json_log() if line["logger"] == "veza.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "test-rid-123"
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/auth/check-username"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert "timestamp" in line
    assert "secret-looking-query" not in json.dumps(line)


def test_request_log_shows_the_route_not_a_capability_token(api_client, db, json_log):
    api_client.get("/api/v1/tracks/shared/capability-token-abc")
    lines = [line for line in json_log() if line["logger"] == "veza.request"]
    assert lines[0]["route"] == "/api/v1/tracks/shared/<str:token>"
    assert "capability-token-abc" not in json.dumps(json_log())


def test_every_line_of_a_request_carries_its_id(api_client, db, json_log):
    api_client.post(
        "/api/v1/auth/login",
        {"email": "nobody@example.com", "password": "wrong-password-1"},
        format="json",
        HTTP_X_REQUEST_ID="rid-login-1",
    )
    lines = json_log()
    assert lines
    assert {line["request_id"] for line in lines} == {"rid-login-1"}
    assert request_id_var.get() == "-"  # reset once the request is over


def _log_from_subprocess(env: dict) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LOG_"))},
        "DJANGO_SETTINGS_MODULE": "veza.settings",
        **env,
    }
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('veza.probe').warning('hello %s', 'there')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_log_format_json_is_one_json_object_per_line():
    line = json.loads(_log_from_subprocess({"APP_ENV": "test", "LOG_FORMAT": "json"}))
    assert line["message"] == "hello there"
    assert line["logger"] == "veza.probe"
    assert line["level"] == "WARNING"
    assert line["request_id"] == "-"


def test_development_logs_are_plain_text():
    line = _log_from_subprocess({"APP_ENV": "development"})
    assert line.endswith("WARNING [-] veza.probe: hello there")


def test_no_password_token_or_secret_is_ever_logged(api_client, db, caplog, settings):
    password, new_password = "Correct-horse-battery-9", "Another-staple-battery-7"
    with caplog.at_level(logging.DEBUG):
        registered = api_client.post(
            "/api/v1/auth/register",
            {"email": "grace@example.com", "username": "grace", "password": password},
            format="json",
        ).json()
        logged_in = api_client.post(
            "/api/v1/auth/login", {"email": "grace@example.com", "password": password}
        ).json()
        bad_login = api_client.post(
            "/api/v1/auth/login", {"email": "grace@example.com", "password": password + "x"}
        )
        refreshed = api_client.post(
            "/api/v1/auth/refresh", {"refresh": logged_in["refresh"]}
        ).json()
        api_client.post("/api/v1/auth/password/reset-request", {"email": "grace@example.com"})
        reset_token = make_password_reset_token(User.objects.get(email="grace@example.com"))
        reset = api_client.post(
            "/api/v1/auth/password/reset", {"token": reset_token, "password": new_password}
        )
    assert bad_login.status_code == 401
    assert reset.status_code == 200

    secrets = {
        "password": password,
        "wrong password": password + "x",
        "new password": new_password,
        "register access": registered["access"],
        "register refresh": registered["refresh"],
        "login access": logged_in["access"],
        "login refresh": logged_in["refresh"],
        "refreshed access": refreshed["access"],
        "refreshed refresh": refreshed["refresh"],
        "reset token": reset_token,
        "JWT_SECRET": settings.JWT_SECRET,
        "SECRET_KEY": settings.SECRET_KEY,
    }
    assert caplog.records, "nothing was logged: the check would prove nothing"
    everything = "\n".join(
        f"{record.getMessage()} {record.__dict__!r} {record.exc_text or ''}"
        for record in caplog.records
    )
    leaked = [name for name, value in secrets.items() if value in everything]
    assert leaked == []
