"""The authentication cache (accounts.auth_cache): a signed-in request reads the session and
the user's token facts from the cache, and every change of them is seen by the very next
request — with the cache warm."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import auth_cache, services
from accounts.models import Role, Session, User
from accounts.services import make_password_reset_token
from tests.factories import DEFAULT_PASSWORD, AdminFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me"
SESSIONS = "/api/v1/auth/sessions"


def sign_in(user) -> APIClient:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


def warm(client) -> None:
    """Two requests: the first fills the cache, the second is served from it (asserted)."""
    assert client.get(ME).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ME).status_code == 200
    assert not any("accounts_session" in q["sql"] for q in queries.captured_queries)


def test_a_warm_request_reads_no_session_and_only_the_profile_it_shows(
    user, django_assert_num_queries
):
    client = sign_in(user)
    assert client.get(ME).status_code == 200
    with django_assert_num_queries(1):  # the profile's fields, all in one statement
        response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["username"] == user.username
    assert response.json()["email"] == user.email


def test_a_profile_change_is_shown_at_once_though_the_caller_is_cached(user):
    client = sign_in(user)
    warm(client)
    User.objects.filter(pk=user.pk).update(display_name="Renamed behind everyone's back")
    assert client.get(ME).json()["display_name"] == "Renamed behind everyone's back"


def test_ending_a_session_refuses_its_token_at_once_with_the_cache_warm(user):
    laptop, phone = sign_in(user), sign_in(user)
    warm(laptop)
    warm(phone)
    phone_id = next(r["id"] for r in phone.get(SESSIONS).json()["results"] if r["current"])
    assert laptop.delete(f"{SESSIONS}/{phone_id}").status_code == 204
    assert phone.get(ME).status_code == 401
    assert laptop.get(ME).status_code == 200
    assert Session.objects.get(pk=phone_id).ended_at is not None


def test_logout_refuses_the_old_token_at_once_with_the_cache_warm(user):
    client = sign_in(user)
    warm(client)
    assert client.post("/api/v1/auth/logout").status_code in (200, 204)
    assert client.get(ME).status_code == 401
    user.refresh_from_db()
    assert user.token_version == 1


def test_a_password_reset_refuses_the_old_token_at_once_with_the_cache_warm(user):
    client = sign_in(user)
    warm(client)
    response = APIClient().post(
        "/api/v1/auth/password/reset",
        {"token": make_password_reset_token(user), "password": "Brand-new-pass-77"},
    )
    assert response.status_code == 200
    assert client.get(ME).status_code == 401


def test_a_password_changed_in_a_shell_refuses_the_old_token_at_once(user):
    client = sign_in(user)
    warm(client)
    user = User.objects.get(pk=user.pk)
    user.set_password("Brand-new-pass-77")
    user.save()
    assert client.get(ME).status_code == 401


def test_a_token_version_bump_refuses_the_old_token_at_once(user):
    client = sign_in(user)
    warm(client)
    user.revoke_tokens()
    assert client.get(ME).status_code == 401


def test_a_role_change_refuses_the_old_token_at_once(user):
    client = sign_in(user)
    warm(client)
    services.update_user(actor=AdminFactory(), user=user, data={"role": Role.CREATOR})
    assert client.get(ME).status_code == 401
    user.refresh_from_db()
    assert user.role == Role.CREATOR


@pytest.mark.parametrize("change", ["deactivated", "staff", "deleted", "session deleted"])
def test_any_save_or_deletion_reaches_the_cache_at_once(user, change):
    client = sign_in(user)
    warm(client)
    if change == "deactivated":
        user.is_active = False
        user.save()
    elif change == "staff":
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    elif change == "deleted":
        User.objects.filter(pk=user.pk).delete()
    else:
        Session.objects.filter(user=user).delete()
    response = client.get(ME)
    if change == "staff":  # still valid, and the fresh flag is what the request sees
        assert response.status_code == 200
        entry = auth_cache.Cached(str(user.pk), _session_of(user)).entry  # refilled, fresh
        assert dict(zip(auth_cache._columns(), entry["values"], strict=True))["is_staff"] is True
    else:
        assert response.status_code == 401


def _session_of(user) -> str:
    return str(Session.objects.filter(user=user).values_list("pk", flat=True).first())


def test_an_entry_filled_while_a_change_was_committing_is_never_used(user):
    """The race the generation closes: a request reads the old facts from the database, the
    change commits and forgets the user, then the request stores what it read."""
    client = sign_in(user)
    session_id = _session_of(user)
    lookup = auth_cache.Cached(str(user.pk), session_id)  # a request: miss, generation noted
    stale = User.objects.get(pk=user.pk)  # ...reads the user as it is now
    user.revoke_tokens()  # the change commits and forgets the user
    lookup.store(user=stale, last_used_at=Session.objects.get(pk=session_id).last_used_at)
    assert auth_cache.Cached(str(user.pk), session_id).entry is None
    assert client.get(ME).status_code == 401


def test_without_a_cache_answer_authentication_reads_the_database(user, settings):
    settings.AUTH_CACHE_SECONDS = 0
    client = sign_in(user)
    assert client.get(ME).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ME).status_code == 200
    assert any("accounts_session" in q["sql"] for q in queries.captured_queries)
    user.revoke_tokens()
    assert client.get(ME).status_code == 401
