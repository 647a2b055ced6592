"""API keys: created by verified users, shown once, stored hashed, revoked at once."""

from datetime import timedelta

from django.utils import timezone

from audit.models import AuditLog
from developer.models import APIKey
from tests.factories import UserFactory

URL = "/api/v1/developer/api-keys"


def test_created_key_is_shown_once_and_only_its_hash_is_stored(client_for, user):
    response = client_for(user).post(URL, {"name": "sync", "scopes": ["tracks:read"]})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "prefix", "key", "scopes", "created_at"}
    assert body["key"].startswith(body["prefix"] + ".")
    stored = APIKey.objects.get(pk=body["id"])
    assert stored.owner == user and stored.scopes == ["tracks:read"]
    assert body["key"] not in stored.hashed_key and stored.hashed_key.startswith("sha512$$")
    listed = client_for(user).get(URL).json()
    assert listed["count"] == 1
    assert "key" not in listed["results"][0] and listed["results"][0]["last_used_at"] is None
    assert AuditLog.objects.filter(action="api_key.create", target_id=body["id"]).exists()


def test_unverified_user_cannot_create_a_key(client_for, db):
    unverified = UserFactory(email_verified=False)

    response = client_for(unverified).post(URL, {"name": "x", "scopes": ["tracks:read"]})

    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    assert not APIKey.objects.exists()


def test_unknown_scope_is_refused(client_for, user):
    response = client_for(user).post(URL, {"name": "x", "scopes": ["tracks:delete"]})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not APIKey.objects.exists()


def test_key_authenticates_as_its_owner(make_key, key_client, user):
    _, key = make_key(user, ["tracks:read"])

    response = key_client(key).get("/api/v1/tracks")

    assert response.status_code == 200


def test_revoked_key_is_refused_at_once(client_for, make_key, key_client, user):
    api_key, key = make_key(user, ["tracks:read"])
    assert key_client(key).get("/api/v1/tracks").status_code == 200

    assert client_for(user).delete(f"{URL}/{api_key.pk}").status_code == 204

    response = key_client(key).get("/api/v1/tracks")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"
    api_key.refresh_from_db()
    assert api_key.revoked and api_key.revoked_at is not None
    assert client_for(user).get(URL).json()["count"] == 0
    assert AuditLog.objects.filter(action="api_key.revoke", target_id=str(api_key.pk)).exists()


def test_unknown_or_forged_key_is_401(make_key, key_client, user):
    api_key, key = make_key(user)
    forged = f"{api_key.prefix}.{'x' * 32}"

    for bad in (forged, "nope", "abc.def", "Api-Key"):
        response = key_client(bad).get("/api/v1/tracks")
        assert response.status_code == 401, bad
        assert response.json()["code"] == "invalid_api_key"


def test_another_users_key_cannot_be_revoked(client_for, make_key, user):
    api_key, _ = make_key(UserFactory())

    response = client_for(user).delete(f"{URL}/{api_key.pk}")

    assert response.status_code == 404
    api_key.refresh_from_db()
    assert not api_key.revoked


def test_keys_never_manage_keys(make_key, key_client, user):
    api_key, key = make_key(user)  # every scope

    for method, path in (("get", URL), ("post", URL), ("delete", f"{URL}/{api_key.pk}")):
        response = getattr(key_client(key), method)(path, {"name": "x", "scopes": ["tracks:read"]})
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "api_key_not_allowed"
    assert APIKey.objects.filter(revoked=False).count() == 1


def test_keys_never_reach_staff_internal_or_chat_endpoints(make_key, key_client, db):
    admin = UserFactory(role="admin", is_staff=True)
    _, key = make_key(admin)

    for method, path in (
        ("get", "/api/v1/admin/audit/logs"),
        ("get", "/api/v1/admin/audit/stats"),
        ("get", "/api/v1/admin/audit/suspicious"),
        ("get", "/api/v1/users"),
        ("post", "/api/v1/chat/token"),
        ("get", "/api/v1/auth/me"),
    ):
        response = getattr(key_client(key), method)(path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "api_key_not_allowed", path


def test_last_used_at_is_written_at_most_once_a_minute(make_key, key_client, user):
    api_key, key = make_key(user, ["tracks:read"])
    client = key_client(key)

    client.get("/api/v1/tracks")
    api_key.refresh_from_db()
    first = api_key.last_used_at
    assert first is not None
    client.get("/api/v1/tracks")
    api_key.refresh_from_db()
    assert api_key.last_used_at == first  # within the minute: no write

    APIKey.objects.filter(pk=api_key.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/v1/tracks")
    api_key.refresh_from_db()
    assert api_key.last_used_at > first - timedelta(seconds=1)
    assert timezone.now() - api_key.last_used_at < timedelta(seconds=30)


def test_a_key_is_found_in_one_query_by_its_prefix(make_key, user, django_assert_num_queries):
    from developer.authentication import ApiKeyAuthentication

    api_key, key = make_key(user, ["tracks:read"])

    with django_assert_num_queries(1) as captured:
        found = ApiKeyAuthentication._lookup(key)

    assert found.pk == api_key.pk and found.owner == user
    assert "prefix" in captured.captured_queries[0]["sql"]


def test_key_throttle_answers_429_with_retry_after(make_key, key_client, user, settings):
    settings.API_KEY_RATE_LIMIT = 3
    _, key = make_key(user, ["tracks:read"])
    client = key_client(key)

    statuses = [client.get("/api/v1/tracks").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/tracks")
    assert response.status_code == 429 and "Retry-After" in response.headers
