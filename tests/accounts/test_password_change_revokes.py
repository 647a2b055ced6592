"""Any change of the stored password revokes every token the user holds, whatever the path:
the API reset, the Django admin, ``manage.py changepassword`` or a shell's set_password()."""

from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from accounts.services import make_password_reset_token
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh"
NEW_PASSWORD = "Brand-new-pass-77"


@pytest.fixture
def signed_in(api_client, user):
    """The user's tokens from a real login, and a check that says whether they still work."""
    tokens = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    ).json()

    def still_valid() -> tuple[int, int]:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        access = api_client.get(ME).status_code
        api_client.credentials()
        return access, api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code

    return still_valid


def _staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_password_reset_through_the_api_revokes_every_token(api_client, user, signed_in):
    response = api_client.post(
        "/api/v1/auth/password/reset",
        {"token": make_password_reset_token(user), "password": NEW_PASSWORD},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.token_version == 1
    assert signed_in() == (401, 401)


def test_password_changed_in_the_django_admin_revokes_every_token(user, signed_in):
    response = _staff_client().post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.token_version == 1
    assert signed_in() == (401, 401)


def test_password_made_unusable_in_the_django_admin_revokes_every_token(user, signed_in):
    response = _staff_client().post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"usable_password": "false", "unset-password": "1"},
    )
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert signed_in() == (401, 401)


def test_other_edits_in_the_django_admin_keep_the_tokens(user, signed_in):
    client = _staff_client()
    form = client.get(f"/admin/accounts/user/{user.pk}/change/").context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        display_name="Renamed By Staff",
        groups=[],
        user_permissions=[],
        role=user.role,
        is_active="on",
        email_verified="on",
    )
    data = {k: v for k, v in data.items() if not isinstance(v, bool) or v}
    response = client.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content[:3000]
    user.refresh_from_db()
    assert user.display_name == "Renamed By Staff"
    assert user.token_version == 0
    assert signed_in()[0] == 200


def test_changepassword_command_revokes_every_token(user, signed_in):
    with mock.patch("getpass.getpass", return_value=NEW_PASSWORD):
        call_command("changepassword", user.email)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.token_version == 1
    assert signed_in() == (401, 401)


@pytest.mark.parametrize("update_fields", [None, ["password"]])
def test_set_password_and_save_in_a_shell_revokes_every_token(user, signed_in, update_fields):
    shell_user = User.objects.get(pk=user.pk)
    shell_user.set_password(NEW_PASSWORD)
    shell_user.save(update_fields=update_fields)
    assert shell_user.token_version == 1
    assert User.objects.get(pk=user.pk).token_version == 1
    assert signed_in() == (401, 401)


def test_a_password_saved_twice_revokes_once(user):
    shell_user = User.objects.get(pk=user.pk)
    shell_user.set_password(NEW_PASSWORD)
    shell_user.save()
    shell_user.save()
    assert User.objects.get(pk=user.pk).token_version == 1


def test_a_hash_upgrade_at_login_is_not_a_password_change(api_client, user, settings, signed_in):
    # A newer preferred hasher: the correct password is re-hashed and saved at the next login.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.ScryptPasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    before = User.objects.get(pk=user.pk).password
    login = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200
    after = User.objects.get(pk=user.pk)
    assert after.password != before and after.password.startswith("scrypt$")
    assert after.token_version == 0
    assert signed_in()[0] == 200


def test_a_profile_update_keeps_the_tokens(client_for, user, signed_in):
    response = client_for(user).patch(f"/api/v1/users/{user.pk}", {"bio": "hello"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.bio == "hello"
    assert user.token_version == 0
    assert signed_in()[0] == 200
