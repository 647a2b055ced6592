"""GET /auth/sessions: the caller's live sessions in a fixed number of statements, whatever
their number (no query per session)."""

import pytest

from accounts.models import Session
from accounts.sessions import start_session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/sessions"


def test_the_session_list_costs_two_statements_for_one_session_or_several(
    client_for, django_assert_num_queries
):
    user = UserFactory()
    client = client_for(user)  # one session: this client's
    client.get(URL)  # the session's last use written, as in steady state

    # (the caller from the authentication cache) count; the page of sessions.
    with django_assert_num_queries(2):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == 1

    for _ in range(6):
        start_session(user=user)
    UserFactory()  # another user's sessions are not listed
    start_session(user=UserFactory())
    with django_assert_num_queries(2):
        response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7 == Session.objects.filter(user=user).count()
    assert sum(session["current"] for session in body["results"]) == 1
    ids = [
        str(pk)
        for pk in Session.objects.filter(user=user)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    ]
    assert [session["id"] for session in body["results"]] == ids
