import jwt
import pytest
from django.conf import settings
from django.core import mail

from accounts.models import Role, User
from accounts.services import make_password_reset_token, make_verification_token
from audit.models import AuditLog
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/auth/me"


def _login(api_client, user, password=DEFAULT_PASSWORD):
    return api_client.post(LOGIN, {"email": user.email, "password": password}, format="json")


def _bearer(client, access):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_register_creates_user_returns_tokens_and_sends_verification_email(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            REGISTER,
            {"email": "New@Example.test", "username": "newbie", "password": "a-Strong-pass-99"},
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "access", "refresh"}
    assert body["user"]["email"] == "new@example.test"
    assert body["user"]["role"] == "user"
    assert body["user"]["email_verified"] is False
    user = User.objects.get(username="newbie")
    assert user.check_password("a-Strong-pass-99")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.test"]
    assert "verify-email?token=" in mail.outbox[0].body


@pytest.mark.parametrize(
    "payload, field",
    [
        (
            {"email": "taken@example.test", "username": "fresh", "password": "a-Strong-pass-99"},
            "email",
        ),
        (
            {"email": "fresh@example.test", "username": "Taken", "password": "a-Strong-pass-99"},
            "username",
        ),
        ({"email": "fresh@example.test", "username": "fresh", "password": "123"}, "password"),
        ({"email": "not-an-email", "username": "fresh", "password": "a-Strong-pass-99"}, "email"),
        (
            {"email": "fresh@example.test", "username": "x y!", "password": "a-Strong-pass-99"},
            "username",
        ),
    ],
)
def test_register_rejects_taken_or_invalid_fields(api_client, payload, field):
    UserFactory(email="taken@example.test", username="taken")
    response = api_client.post(REGISTER, payload)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body
    assert User.objects.count() == 1


def test_register_rejects_malformed_json_with_json_error(api_client):
    response = api_client.generic("POST", REGISTER, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert User.objects.count() == 0


def test_login_returns_tokens_with_contract_claims(api_client, user):
    response = _login(api_client, user)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == str(user.id)
    claims = jwt.decode(
        body["access"], settings.JWT_SECRET, algorithms=["HS256"], audience="veza-app"
    )
    assert claims["sub"] == str(user.id)
    assert claims["iss"] == "veza-api"
    assert claims["aud"] == "veza-app"
    assert claims["token_version"] == 0
    assert claims["role"] == "user"
    assert {"exp", "iat"} <= set(claims)
    assert AuditLog.objects.filter(action="auth.login", actor=user).count() == 1


def test_login_failure_is_401_and_same_for_unknown_email(api_client, user):
    wrong = _login(api_client, user, password="nope-nope-nope")
    unknown = api_client.post(LOGIN, {"email": "ghost@example.test", "password": "whatever"})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "detail": "Invalid email or password.",
            "code": "invalid_credentials",
        }
    )
    assert AuditLog.objects.filter(action="auth.login_failed").count() == 2


def test_login_is_rate_limited_after_failures_with_retry_after(api_client, user, settings):
    settings.AUTH_RATE_LIMIT_LOGIN_ATTEMPTS = 3
    for _ in range(3):
        assert _login(api_client, user, password="bad-password-1").status_code == 401
    blocked = _login(api_client, user)  # even the right password is refused now
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "throttled"
    assert int(blocked["Retry-After"]) > 0


def test_rate_limit_can_be_disabled_for_end_to_end_runs(api_client, user, settings):
    settings.AUTH_RATE_LIMIT_LOGIN_ATTEMPTS = 1
    settings.DISABLE_RATE_LIMIT_FOR_TESTS = True
    _login(api_client, user, password="bad-password-1")
    assert _login(api_client, user).status_code == 200


def test_global_rate_limit_answers_429_with_retry_after(api_client, settings):
    settings.RATE_LIMIT_LIMIT = 2
    settings.RATE_LIMIT_WINDOW = 60
    url = "/api/v1/auth/check-username?username=someone"
    assert api_client.get(url).status_code == 200
    assert api_client.get(url).status_code == 200
    response = api_client.get(url)
    assert response.status_code == 429
    assert response["Retry-After"]


def test_registrations_are_limited_per_hour(api_client, settings):
    settings.REGISTRATION_RATE_LIMIT_PER_HOUR = 1
    ok = api_client.post(
        REGISTER, {"email": "a@example.test", "username": "aaa", "password": "a-Strong-pass-99"}
    )
    assert ok.status_code == 201
    second = api_client.post(
        REGISTER, {"email": "b@example.test", "username": "bbb", "password": "a-Strong-pass-99"}
    )
    assert second.status_code == 429
    assert not User.objects.filter(username="bbb").exists()


def test_me_requires_a_token(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_rejects_a_garbage_token(api_client):
    response = _bearer(api_client, "not-a-jwt").get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_logout_revokes_every_token(api_client, user):
    first = _login(api_client, user).json()
    second = _login(api_client, user).json()
    assert _bearer(api_client, first["access"]).post("/api/v1/auth/logout").status_code == 204
    for tokens in (first, second):
        assert _bearer(api_client, tokens["access"]).get(ME).status_code == 401
        api_client.credentials()
        assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401
    user.refresh_from_db()
    assert user.token_version == 1
    assert AuditLog.objects.filter(action="auth.logout", actor=user).exists()


def test_refresh_rotates_and_a_refresh_token_works_once(api_client, user):
    tokens = _login(api_client, user).json()
    rotated = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert rotated.status_code == 200
    new = rotated.json()
    assert set(new) == {"access", "refresh"}
    assert new["refresh"] != tokens["refresh"]
    assert _bearer(api_client, new["access"]).get(ME).status_code == 200
    api_client.credentials()
    reused = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert reused.status_code == 401
    assert api_client.post(REFRESH, {"refresh": new["refresh"]}).status_code == 200


def test_access_token_cannot_be_used_as_refresh(api_client, user):
    tokens = _login(api_client, user).json()
    assert api_client.post(REFRESH, {"refresh": tokens["access"]}).status_code == 401


def test_token_signed_with_another_secret_is_rejected(api_client, user):
    forged = jwt.encode(
        {
            "sub": str(user.id),
            "token_version": 0,
            "role": "admin",
            "token_type": "access",
            "aud": "veza-app",
            "iss": "veza-api",
            "exp": 9999999999,
            "jti": "x",
        },
        "another-secret-that-is-long-enough-0123456789",
        algorithm="HS256",
    )
    assert _bearer(api_client, forged).get(ME).status_code == 401


def test_check_username(api_client, user):
    taken = api_client.get(f"/api/v1/auth/check-username?username={user.username.upper()}")
    free = api_client.get("/api/v1/auth/check-username?username=nobody_here")
    assert taken.json() == {"available": False}
    assert free.json() == {"available": True}
    assert api_client.get("/api/v1/auth/check-username").status_code == 400


def test_verify_email_marks_the_user_verified(api_client):
    user = UserFactory(email_verified=False)
    response = api_client.post(
        "/api/v1/auth/verify-email", {"token": make_verification_token(user)}
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email_verified is True


def test_verify_email_rejects_a_tampered_token(api_client):
    user = UserFactory(email_verified=False)
    token = make_verification_token(user)[:-2] + "xx"
    response = api_client.post("/api/v1/auth/verify-email", {"token": token})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"
    user.refresh_from_db()
    assert user.email_verified is False


def test_resend_verification_sends_an_email(client_for, django_capture_on_commit_callbacks):
    user = UserFactory(email_verified=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post("/api/v1/auth/resend-verification")
    assert response.status_code == 200
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_password_reset_request_answers_the_same_for_unknown_emails(
    api_client, user, django_capture_on_commit_callbacks
):
    url = "/api/v1/auth/password/reset-request"
    with django_capture_on_commit_callbacks(execute=True):
        known = api_client.post(url, {"email": user.email})
        unknown = api_client.post(url, {"email": "ghost@example.test"})
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_password_reset_changes_password_and_revokes_tokens(api_client, user):
    tokens = _login(api_client, user).json()
    token = make_password_reset_token(user)
    response = api_client.post(
        "/api/v1/auth/password/reset", {"token": token, "password": "Brand-new-pass-77"}
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password("Brand-new-pass-77")
    assert _bearer(api_client, tokens["access"]).get(ME).status_code == 401
    api_client.credentials()
    # the link works once
    again = api_client.post(
        "/api/v1/auth/password/reset", {"token": token, "password": "Another-pass-88"}
    )
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_token"
    assert AuditLog.objects.filter(action="auth.password_reset", actor=user).exists()


def test_password_reset_rejects_weak_password_and_keeps_the_old_one(api_client, user):
    response = api_client.post(
        "/api/v1/auth/password/reset",
        {"token": make_password_reset_token(user), "password": "123"},
    )
    assert response.status_code == 400
    assert "password" in response.json()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_chat_token_is_signed_with_the_chat_secret(client_for, user, settings):
    settings.CHAT_JWT_SECRET = "chat-secret-chat-secret-chat-secret-42"
    response = client_for(user).post("/api/v1/chat/token")
    assert response.status_code == 200
    body = response.json()
    claims = jwt.decode(
        body["token"], settings.CHAT_JWT_SECRET, algorithms=["HS256"], audience="veza-chat"
    )
    assert claims["sub"] == str(user.id)
    assert body["expires_at"]


def test_chat_token_requires_auth(api_client):
    assert api_client.post("/api/v1/chat/token").status_code == 401


def test_superuser_command_makes_staff_admin(db):
    admin = User.objects.create_superuser(email="root@example.test", username="root", password="x")
    assert admin.is_staff and admin.role == Role.ADMIN
