"""Sign-in sessions through the API: listed, ended one at a time, ended all at once by logout
or a password reset, and refused at once (access and refresh) once ended."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Session, SessionEnd
from accounts.services import make_password_reset_token
from accounts.sessions import purge_old_sessions
from audit.models import AuditLog
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
SESSIONS = "/api/v1/auth/sessions"
ME = "/api/v1/auth/me"


class Device:
    """One signed-in client: its own tokens, its own user agent."""

    def __init__(self, user, *, agent: str, ip: str = "203.0.113.7"):
        self.client = APIClient(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
        response = self.client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 200, response.content
        self.access, self.refresh = response.json()["access"], response.json()["refresh"]
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.access}")

    def get(self, path: str):
        return self.client.get(path)

    def refreshes(self) -> int:
        response = APIClient().post(REFRESH, {"refresh": self.refresh})
        if response.status_code == 200:
            self.refresh = response.json()["refresh"]
        return response.status_code


@pytest.fixture
def laptop(user):
    return Device(user, agent="Firefox on the laptop")


@pytest.fixture
def phone(user):
    return Device(user, agent="Safari on the phone", ip="2001:db8::5")


def test_two_sign_ins_are_two_sessions_and_current_marks_the_callers(laptop, phone):
    response = laptop.get(SESSIONS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    by_agent = {row["user_agent"]: row for row in body["results"]}
    assert by_agent["Firefox on the laptop"]["current"] is True
    assert by_agent["Safari on the phone"]["current"] is False
    assert by_agent["Safari on the phone"]["ip"] == "2001:db8::5"
    assert set(by_agent["Firefox on the laptop"]) == {
        "id",
        "created_at",
        "last_used_at",
        "ip",
        "user_agent",
        "current",
    }
    assert [row["current"] for row in phone.get(SESSIONS).json()["results"]].count(True) == 1


def test_registration_starts_a_session(api_client):
    response = api_client.post(
        "/api/v1/auth/register",
        {"email": "new@example.test", "username": "newcomer", "password": "Long-enough-pw-1"},
    )

    assert response.status_code == 201
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert [row["current"] for row in api_client.get(SESSIONS).json()["results"]] == [True]


def test_refresh_keeps_the_session(laptop):
    assert laptop.refreshes() == 200
    assert laptop.refreshes() == 200

    assert Session.objects.filter(user__email=laptop.get(ME).json()["email"]).count() == 1


def test_ending_a_session_refuses_its_tokens_at_once_and_keeps_the_other(user, laptop, phone):
    phone_id = next(r["id"] for r in phone.get(SESSIONS).json()["results"] if r["current"])

    response = laptop.client.delete(f"{SESSIONS}/{phone_id}")

    assert response.status_code == 204
    assert phone.get(ME).status_code == 401
    assert phone.refreshes() == 401
    assert laptop.get(ME).status_code == 200
    assert laptop.refreshes() == 200
    assert [row["user_agent"] for row in laptop.get(SESSIONS).json()["results"]] == [
        "Firefox on the laptop"
    ]
    ended = Session.objects.get(pk=phone_id)
    assert ended.ended_at is not None and ended.end_reason == SessionEnd.ENDED_BY_USER
    entry = AuditLog.objects.get(action="auth.session_ended")
    assert entry.actor == user and entry.target_id == phone_id


def test_a_session_ended_twice_is_not_found_the_second_time(laptop, phone):
    phone_id = next(r["id"] for r in phone.get(SESSIONS).json()["results"] if r["current"])
    assert laptop.client.delete(f"{SESSIONS}/{phone_id}").status_code == 204

    assert laptop.client.delete(f"{SESSIONS}/{phone_id}").status_code == 404


def test_another_users_session_and_an_unknown_id_are_not_found(laptop):
    stranger = Device(UserFactory(), agent="someone else")
    theirs = stranger.get(SESSIONS).json()["results"][0]["id"]

    response = laptop.client.delete(f"{SESSIONS}/{theirs}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert laptop.client.delete(f"{SESSIONS}/00000000-0000-4000-8000-000000000000").status_code == (
        404
    )
    assert stranger.get(ME).status_code == 200


def test_logout_ends_every_session(user, laptop, phone):
    assert laptop.client.post("/api/v1/auth/logout").status_code == 204

    assert (laptop.get(ME).status_code, phone.get(ME).status_code) == (401, 401)
    assert (laptop.refreshes(), phone.refreshes()) == (401, 401)
    assert not Session.objects.filter(user=user, ended_at__isnull=True).exists()
    assert set(Session.objects.filter(user=user).values_list("end_reason", flat=True)) == {
        SessionEnd.SIGNED_OUT
    }
    entry = AuditLog.objects.get(action="auth.sessions_ended")
    assert entry.details == {"reason": "signed_out", "count": 2}


def test_a_password_reset_ends_every_session(api_client, user, laptop, phone):
    response = api_client.post(
        "/api/v1/auth/password/reset",
        {"token": make_password_reset_token(user), "password": "Brand-new-pass-77"},
    )

    assert response.status_code == 200
    assert (laptop.get(ME).status_code, phone.get(ME).status_code) == (401, 401)
    assert (laptop.refreshes(), phone.refreshes()) == (401, 401)
    assert set(Session.objects.filter(user=user).values_list("end_reason", flat=True)) == {
        SessionEnd.PASSWORD_CHANGED
    }
    again = api_client.post(LOGIN, {"email": user.email, "password": "Brand-new-pass-77"})
    assert again.status_code == 200
    assert Session.objects.filter(user=user, ended_at__isnull=True).count() == 1


def test_a_token_without_a_session_is_refused(api_client, user):
    from accounts.tokens import VezaRefreshToken

    refresh = VezaRefreshToken.for_user(user)  # no session: as issued before sessions existed
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")

    assert api_client.get(ME).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": str(refresh)}).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(laptop, django_assert_num_queries):
    session = Session.objects.get()
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Session.objects.filter(pk=session.pk).update(last_used_at=an_hour_ago)

    with django_assert_num_queries(2):  # the session with its user, then the one UPDATE
        assert laptop.get(ME).status_code == 200
    session.refresh_from_db()
    touched = session.last_used_at
    assert touched > an_hour_ago

    with django_assert_num_queries(1):  # used a moment ago: nothing written (the profile read)
        assert laptop.get(ME).status_code == 200
    session.refresh_from_db()
    assert session.last_used_at == touched

    # A minute later: the last use the cache remembers is as old as the row's.
    Session.objects.filter(pk=session.pk).update(last_used_at=touched - timedelta(seconds=61))
    cache.clear()
    laptop.get(ME)
    session.refresh_from_db()
    assert session.last_used_at > touched - timedelta(seconds=1)


def test_an_authenticated_get_costs_what_it_did_before_sessions(laptop, django_assert_num_queries):
    # Before sessions: one statement for the token's user. With them: the same one statement,
    # the session joined to its user.
    with django_assert_num_queries(1):
        assert laptop.get(ME).status_code == 200


def test_a_session_idle_past_the_refresh_lifetime_is_not_listed(settings, user, laptop, phone):
    long_ago = timezone.now() - settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] - timedelta(hours=1)
    phone_session = Session.objects.get(user_agent="Safari on the phone")
    Session.objects.filter(pk=phone_session.pk).update(last_used_at=long_ago)

    assert [r["user_agent"] for r in laptop.get(SESSIONS).json()["results"]] == [
        "Firefox on the laptop"
    ]


def test_the_sessions_list_is_paginated(user):
    devices = [Device(user, agent=f"device {n}") for n in range(3)]

    body = devices[0].get(f"{SESSIONS}?page_size=2").json()

    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_old_ended_sessions_are_purged(settings, user, laptop, phone):
    laptop.client.post("/api/v1/auth/logout")
    Device(user, agent="still here")
    old = timezone.now() - timedelta(days=settings.SESSION_RETENTION_DAYS + 1)
    Session.objects.filter(user_agent="Firefox on the laptop").update(ended_at=old)

    assert purge_old_sessions() == 1
    assert sorted(Session.objects.values_list("user_agent", flat=True)) == [
        "Safari on the phone",
        "still here",
    ]
