"""Never a 500 for bad input: Django's own refusals and NUL characters answer 4xx in JSON.

Runs in both CI runs; the NUL cases matter on PostgreSQL, whose text columns cannot hold
NUL (SQLite stores it, so a missing guard only shows there)."""

import pytest
from django.core.exceptions import SuspiciousFileOperation
from rest_framework.test import APIClient

from audit.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    # A 500 must come back as a response to assert on, not as an exception in the test.
    return APIClient(raise_request_exception=False)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/users/by-username/a%00b",
        "/api/v1/tracks/shared/x%00y",
        "/api/v1/tracks?q=%00",
        "/api/v1/tracks?genre=%00",
        "/api/v1/tracks?creator=%00",
        "/api/v1/tracks?ordering=%00",
        "/api/v1/auth/check-username?username=%00",
        "/api/v1/auth/check-username?username=ab%00cd",
        "/api/v1/playlists?q=%00",
        "/api/v1/marketplace/products?q=%00",
        "/api/v1/marketplace/products?seller=a%00",
        "/api/v1/marketplace/products?product_type=%00",
        "/api/v1/users?q=%00",
        "/api/v1/admin/audit/logs?action=%00",
        "/api/v1/auth/check-username?%00=x&username=y",
    ],
)
def test_nul_in_path_or_query_is_400_invalid(client, user, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "NUL characters are not allowed in URLs.",
        "code": "invalid",
    }


def test_nul_in_path_or_query_is_refused_for_authenticated_callers_too(client_for, admin_user):
    response = client_for(admin_user).get("/api/v1/users?q=a%00")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_nul_outside_the_api_is_a_plain_400(db):
    from django.test import Client

    response = Client(raise_request_exception=False).get("/admin/accounts/user/?q=%00")
    assert response.status_code == 400


def test_an_escaped_percent_sign_is_not_taken_for_a_nul(client, user):
    response = client.get("/api/v1/tracks?q=%2500")
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_nul_in_json_fields_is_a_validation_error(client):
    response = client.post(
        "/api/v1/auth/register",
        {"email": "a@example.test", "username": "ab\x00c", "password": "a-Strong-pass-99\x00"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "username" in body


def test_nul_in_the_user_agent_is_dropped_from_the_audit_log(client, user):
    response = client.post(
        "/api/v1/auth/login",
        {"email": user.email, "password": "wrong-password"},
        format="json",
        HTTP_USER_AGENT="probe\x00agent",
    )
    assert response.status_code == 401
    entry = AuditLog.objects.get(action="auth.login_failed")
    assert entry.user_agent == "probeagent"


def test_an_oversized_json_body_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.generic(
        "POST",
        "/api/v1/auth/login",
        b'{"email": "' + b"a" * 4096 + b'", "password": "x"}',
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is too large.",
        "code": "request_too_large",
    }


def test_an_oversized_form_body_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.generic(
        "POST",
        "/api/v1/auth/register",
        "email=" + "a" * 4096,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_too_many_form_fields_is_400(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.generic(
        "POST",
        "/api/v1/auth/login",
        "&".join(f"f{i}=1" for i in range(50)),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request has too many fields or files.",
        "code": "too_many_fields",
    }


def test_too_many_multipart_fields_is_400(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.post(
        "/api/v1/auth/register", {f"f{i}": "1" for i in range(50)}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_fields"


def test_a_disallowed_host_is_a_json_400(client, settings):
    settings.ALLOWED_HOSTS = ["api.veza.example"]
    response = client.get("/api/v1/auth/check-username?username=xyz", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "bad_request"


def test_a_suspicious_operation_inside_a_view_is_400_not_500(client, monkeypatch):
    from accounts import services

    def suspicious(username):
        raise SuspiciousFileOperation("path traversal attempt")

    monkeypatch.setattr(services, "is_username_available", suspicious)
    response = client.get("/api/v1/auth/check-username?username=xyz")
    assert response.status_code == 400
    assert response.json() == {"detail": "The request is malformed.", "code": "bad_request"}


def test_a_real_server_error_is_still_a_json_500(client, monkeypatch):
    from accounts import services

    def broken(username):
        raise RuntimeError("bug")

    monkeypatch.setattr(services, "is_username_available", broken)
    response = client.get("/api/v1/auth/check-username?username=xyz")
    assert response.status_code == 500
    assert response.json() == {"detail": "An internal error occurred.", "code": "server_error"}


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_a_login_body_that_is_not_an_object_is_400(client, body):
    response = client.generic("POST", "/api/v1/auth/login", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_json_404_keeps_the_cors_headers(client):
    response = client.get("/api/v1/no-such-endpoint", HTTP_ORIGIN="https://app.example")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response["Access-Control-Allow-Origin"] in ("*", "https://app.example")
