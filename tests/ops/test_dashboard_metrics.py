"""The series the seed's dashboards read are on /metrics and move with what happens."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from prometheus_client import REGISTRY

from tests.factories import DEFAULT_PASSWORD, CreatorFactory
from tests.tracks.factories import wav_bytes

pytestmark = pytest.mark.django_db


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_http_requests_are_counted_and_timed_by_route(api_client):
    labels = {"method": "GET", "route": "/api/v1/auth/check-username"}
    count = value("veza_http_requests_total", **labels, status="200")
    timed = value("veza_http_request_duration_seconds_count", **labels)
    for _ in range(3):
        assert api_client.get("/api/v1/auth/check-username?username=abc").status_code == 200
    assert value("veza_http_requests_total", **labels, status="200") == count + 3
    assert value("veza_http_request_duration_seconds_count", **labels) == timed + 3


def test_unresolved_paths_share_one_series(api_client):
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    before = value("veza_http_requests_total", **labels)
    api_client.get("/api/v1/nothing-here/123")
    api_client.get("/api/v1/nothing-here/456")
    assert value("veza_http_requests_total", **labels) == before + 2
    body = api_client.get("/metrics").content.decode()
    assert "nothing-here" not in body


def test_login_attempts_are_counted_by_outcome(api_client, user, settings):
    settings.AUTH_RATE_LIMIT_LOGIN_ATTEMPTS = 1
    ok, failed, throttled = (
        value("veza_auth_login_attempts_total", outcome=o) for o in ("ok", "failed", "throttled")
    )
    login = "/api/v1/auth/login"
    assert (
        api_client.post(login, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code
        == 200
    )
    assert api_client.post(login, {"email": user.email, "password": "wrong-one"}).status_code == 401
    assert api_client.post(login, {"email": user.email, "password": "wrong-two"}).status_code == 429
    assert value("veza_auth_login_attempts_total", outcome="ok") == ok + 1
    assert value("veza_auth_login_attempts_total", outcome="failed") == failed + 1
    assert value("veza_auth_login_attempts_total", outcome="throttled") == throttled + 1


def test_active_sessions_follow_refresh_tokens(api_client, user):
    before = value("veza_auth_sessions_active")
    tokens = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    ).json()
    assert value("veza_auth_sessions_active") == before + 1
    # A second sign-in of the same account is still one account with a session.
    api_client.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert value("veza_auth_sessions_active") == before + 1
    assert (
        api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}).status_code == 200
    )
    assert value("veza_auth_sessions_active") == before + 1
    assert "veza_auth_sessions_active" in api_client.get("/metrics").content.decode()


def test_uploads_accepted_and_refused_are_counted(client_for, django_capture_on_commit_callbacks):
    client = client_for(CreatorFactory())
    accepted = value("veza_file_uploads_total", kind="track")
    refused = value("veza_uploads_failed_total", kind="track", reason="invalid_file")
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(
            "/api/v1/tracks",
            {"file": SimpleUploadedFile("a.wav", wav_bytes(), "audio/wav"), "title": "A"},
            format="multipart",
        )
        bad = client.post(
            "/api/v1/tracks",
            {"file": SimpleUploadedFile("b.wav", b"not audio at all", "audio/wav"), "title": "B"},
            format="multipart",
        )
    assert (ok.status_code, bad.status_code) == (201, 400)
    assert value("veza_file_uploads_total", kind="track") == accepted + 1
    assert value("veza_uploads_failed_total", kind="track", reason="invalid_file") == refused + 1


def test_uploads_refused_for_capacity_are_counted(client_for, settings):
    from tracks.upload_slots import upload_slot

    settings.MAX_CONCURRENT_UPLOADS = 1
    refused = value("veza_uploads_failed_total", kind="track", reason="too_many_uploads")
    with upload_slot():  # another upload in flight holds the only slot
        response = client_for(CreatorFactory()).post(
            "/api/v1/tracks",
            {"file": SimpleUploadedFile("a.wav", wav_bytes(), "audio/wav"), "title": "A"},
            format="multipart",
        )
    assert response.status_code == 503
    assert response.json()["code"] == "too_many_uploads"
    assert value("veza_uploads_failed_total", kind="track", reason="too_many_uploads") == (
        refused + 1
    )


def test_playlists_created_are_counted(client_for, user, django_capture_on_commit_callbacks):
    before = value("veza_playlists_created_total")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post("/api/v1/playlists", {"title": "Mix"})
    assert response.status_code == 201
    assert value("veza_playlists_created_total") == before + 1


def test_every_dashboard_series_is_exposed_next_to_django_prometheus(api_client, user):
    api_client.get("/api/v1/auth/check-username?username=abc")
    body = api_client.get("/metrics").content.decode()
    for name in (
        "veza_http_requests_total",
        "veza_http_request_duration_seconds_bucket",
        "veza_auth_login_attempts_total",
        "veza_file_uploads_total",
        "veza_uploads_failed_total",
        "veza_playlists_created_total",
        "veza_auth_sessions_active",
        "django_http_requests_total_by_view_transport_method_total",
    ):
        assert name in body, name
