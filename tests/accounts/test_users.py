import pytest

from accounts.models import Role, User
from audit.models import AuditLog
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_public_profile_has_no_email(api_client, user):
    for url in (f"/api/v1/users/{user.id}", f"/api/v1/users/by-username/{user.username}"):
        response = api_client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["username"] == user.username
        assert "email" not in body


def test_unknown_user_is_a_json_404(api_client):
    response = api_client.get("/api/v1/users/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api_client.get("/api/v1/users/not-a-uuid").json()["code"] == "not_found"


def test_owner_updates_own_profile(client_for, user):
    response = client_for(user).patch(
        f"/api/v1/users/{user.id}", {"display_name": "DJ Test", "bio": "beats"}
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "DJ Test"
    user.refresh_from_db()
    assert (user.display_name, user.bio) == ("DJ Test", "beats")


def test_other_user_cannot_update_profile(client_for, user):
    other = UserFactory()
    response = client_for(other).patch(f"/api/v1/users/{user.id}", {"bio": "hacked"})
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.bio != "hacked"


def test_anonymous_update_is_401(api_client, user):
    assert api_client.patch(f"/api/v1/users/{user.id}", {"bio": "x"}).status_code == 401


def test_user_cannot_raise_own_role(client_for, user):
    response = client_for(user).patch(f"/api/v1/users/{user.id}", {"role": "admin"})
    assert response.status_code == 403
    assert response.json()["code"] == "role_change_forbidden"
    user.refresh_from_db()
    assert user.role == Role.USER


def test_admin_cannot_change_own_role_either(client_for):
    admin = AdminFactory()
    response = client_for(admin).patch(f"/api/v1/users/{admin.id}", {"role": "user"})
    assert response.status_code == 403
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_admin_changes_role_revokes_tokens_and_audits(client_for, user):
    admin = AdminFactory()
    user_client = client_for(user)
    response = client_for(admin).patch(f"/api/v1/users/{user.id}", {"role": "creator"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.role == Role.CREATOR
    assert user.token_version == 1
    assert user_client.get("/api/v1/auth/me").status_code == 401
    entry = AuditLog.objects.get(action="user.role_change")
    assert entry.actor == admin
    assert entry.details == {"from": "user", "to": "creator"}


def test_invalid_role_value_is_400(client_for, user):
    admin = AdminFactory()
    response = client_for(admin).patch(f"/api/v1/users/{user.id}", {"role": "emperor"})
    assert response.status_code == 400
    assert "role" in response.json()


def test_username_taken_on_update_is_400(client_for, user):
    UserFactory(username="occupied")
    response = client_for(user).patch(f"/api/v1/users/{user.id}", {"username": "OCCUPIED"})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.username != "OCCUPIED"


def test_profile_completion(client_for):
    user = UserFactory(display_name="", bio="", avatar_url="", email_verified=True)
    response = client_for(user).get(f"/api/v1/users/{user.id}/completion")
    assert response.status_code == 200
    assert response.json() == {"percentage": 25, "missing": ["display_name", "bio", "avatar_url"]}
    other = UserFactory()
    assert client_for(other).get(f"/api/v1/users/{user.id}/completion").status_code == 403
    assert client_for(AdminFactory()).get(f"/api/v1/users/{user.id}/completion").status_code == 200


def test_admin_user_list_is_paginated_without_query_per_row(
    client_for, django_assert_max_num_queries
):
    admin = AdminFactory()
    UserFactory.create_batch(30)
    client = client_for(admin)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/users?page_size=25")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == User.objects.count() == 31
    assert len(body["results"]) == 25
    assert body["next"]


def test_user_list_is_admin_only(client_for, user):
    assert client_for(user).get("/api/v1/users").status_code == 403


def test_a_user_sets_its_country_upper_cased_and_sees_it(client_for, user):
    client = client_for(user)
    response = client.patch(f"/api/v1/users/{user.id}", {"country": "de"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["country"] == "DE"
    user.refresh_from_db()
    assert user.country == "DE"
    assert client.get("/api/v1/auth/me").json()["country"] == "DE"
    assert "country" not in client.get(f"/api/v1/users/{user.id}").json()  # not public

    response = client.patch(f"/api/v1/users/{user.id}", {"country": None}, format="json")
    assert response.json()["country"] is None


@pytest.mark.parametrize("country", ["XX", "ZZ", "DEU", "1"])
def test_an_unknown_country_is_refused_on_the_profile(client_for, user, country):
    response = client_for(user).patch(
        f"/api/v1/users/{user.id}", {"country": country}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "country" in response.json()
    user.refresh_from_db()
    assert user.country is None
