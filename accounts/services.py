"""Account workflows: registration, login, revocation, email links, profile and role changes."""

import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts import errors
from accounts.metrics import login_attempts, logins, users_registered
from accounts.models import Role, SessionEnd, User
from accounts.tasks import send_templated_email
from audit.services import record
from veza.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

VERIFY_SALT = "veza.accounts.verify-email"
RESET_SALT = "veza.accounts.password-reset"


# --- registration and login ---------------------------------------------------------------
def register_user(*, email: str, username: str, password: str, request=None) -> User:
    email = User.objects.normalize_email(email).lower()
    with transaction.atomic():
        try:
            user = User.objects.create_user(email=email, username=username, password=password)
        except IntegrityError as exc:  # two registrations racing for one email/username
            raise errors.AccountTaken() from exc
        record(action="user.register", actor=user, target=user, request=request)
        send_verification_email(user=user)
    users_registered.inc()
    return user


def login(*, email: str, password: str, request=None) -> User:
    """Authenticate by email. Unknown email and wrong password are the same failure."""
    user = authenticate(request, username=(email or "").strip().lower(), password=password)
    if user is None:
        logins.labels(outcome="failed").inc()
        login_attempts.labels(outcome="failed").inc()
        record(
            action="auth.login_failed",
            request=request,
            target_type="accounts.user",
            details={"email": (email or "")[:254]},
        )
        raise errors.InvalidCredentials()
    logins.labels(outcome="ok").inc()
    login_attempts.labels(outcome="ok").inc()
    record(action="auth.login", actor=user, target=user, request=request)
    return user


def logout(*, user: User, request=None) -> None:
    """Sign out everywhere: every token revoked, every session ended."""
    user.revoke_tokens(reason=SessionEnd.SIGNED_OUT, request=request)
    record(action="auth.logout", actor=user, target=user, request=request)


# --- email verification -------------------------------------------------------------------
def make_verification_token(user: User) -> str:
    return signing.dumps({"uid": str(user.pk), "email": user.email}, salt=VERIFY_SALT)


def send_verification_email(*, user: User) -> None:
    token = make_verification_token(user)
    enqueue_on_commit(
        send_templated_email,
        template="verify_email",
        to=[user.email],
        context={
            "username": user.username,
            "token": token,
            "url": f"{settings.FRONTEND_URL}/verify-email?token={token}",
            "hours": settings.EMAIL_TOKEN_MAX_AGE_HOURS,
        },
    )


def verify_email(*, token: str) -> User:
    try:
        data = signing.loads(
            token, salt=VERIFY_SALT, max_age=settings.EMAIL_TOKEN_MAX_AGE_HOURS * 3600
        )
    except signing.BadSignature as exc:
        raise errors.InvalidToken() from exc
    user = User.objects.filter(pk=data.get("uid"), is_active=True).first()
    if user is None or user.email != data.get("email"):
        raise errors.InvalidToken()
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified", "updated_at"])
        record(action="user.email_verified", actor=user, target=user)
    return user


# --- password reset -----------------------------------------------------------------------
def _password_fingerprint(user: User) -> str:
    # Changes whenever the password (or token_version) does: a reset link works once.
    return salted_hmac(
        RESET_SALT, f"{user.password}:{user.token_version}", algorithm="sha256"
    ).hexdigest()[:32]


def make_password_reset_token(user: User) -> str:
    return signing.dumps({"uid": str(user.pk), "fp": _password_fingerprint(user)}, salt=RESET_SALT)


def request_password_reset(*, email: str, request=None) -> None:
    """Always succeeds from the caller's point of view: no account enumeration."""
    user = User.objects.filter(email=(email or "").strip().lower(), is_active=True).first()
    if user is None:
        return
    token = make_password_reset_token(user)
    record(action="auth.password_reset_requested", actor=user, target=user, request=request)
    enqueue_on_commit(
        send_templated_email,
        template="password_reset",
        to=[user.email],
        context={
            "username": user.username,
            "token": token,
            "url": f"{settings.FRONTEND_URL}/reset-password?token={token}",
            "hours": settings.PASSWORD_RESET_MAX_AGE_HOURS,
        },
    )


def reset_password(*, token: str, password: str, request=None) -> User:
    try:
        data = signing.loads(
            token, salt=RESET_SALT, max_age=settings.PASSWORD_RESET_MAX_AGE_HOURS * 3600
        )
    except signing.BadSignature as exc:
        raise errors.InvalidToken() from exc
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=data.get("uid"), is_active=True).first()
        if user is None or not constant_time_compare(
            str(data.get("fp", "")), _password_fingerprint(user)
        ):
            raise errors.InvalidToken()
        validate_password(password, user)
        user.set_password(password)
        user.save(update_fields=["password", "updated_at"])  # revokes every token (the model)
        record(action="auth.password_reset", actor=user, target=user, request=request)
    return user


# --- profile and role ---------------------------------------------------------------------
PROFILE_FIELDS = ("username", "display_name", "bio", "avatar_url", "country")


def update_user(*, actor: User, user: User, data: dict, request=None) -> User:
    new_role = data.get("role")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        changed = []
        for field in PROFILE_FIELDS:
            if field in data and getattr(user, field) != data[field]:
                setattr(user, field, data[field])
                changed.append(field)
        role_changed = new_role is not None and new_role != user.role
        if role_changed:
            if not actor.is_admin or actor.pk == user.pk:
                raise errors.RoleChangeForbidden()
            old_role, user.role = user.role, new_role
            changed.append("role")
        if changed:
            try:
                with transaction.atomic():
                    user.save(update_fields=[*changed, "updated_at"])
            except IntegrityError as exc:
                raise errors.AccountTaken("This username is already taken.") from exc
        if role_changed:
            # No token may carry a stale role: revoke them all.
            user.revoke_tokens()
            record(
                action="user.role_change",
                actor=actor,
                target=user,
                request=request,
                details={"from": old_role, "to": new_role},
            )
        elif changed:
            record(
                action="user.update",
                actor=actor,
                target=user,
                request=request,
                details={"fields": changed},
            )
    return user


COMPLETION_FIELDS = ("display_name", "bio", "avatar_url", "email_verified")


def profile_completion(user: User) -> dict:
    missing = [field for field in COMPLETION_FIELDS if not getattr(user, field)]
    done = len(COMPLETION_FIELDS) - len(missing)
    return {"percentage": round(100 * done / len(COMPLETION_FIELDS)), "missing": missing}


def is_username_available(username: str) -> bool:
    return not User.objects.filter(username__iexact=username).exists()


__all__ = [
    "Role",
    "is_username_available",
    "login",
    "logout",
    "profile_completion",
    "register_user",
    "request_password_reset",
    "reset_password",
    "update_user",
    "verify_email",
]


# --- trust and safety (moderation decides; these are the account's side of it) ----------
def check_can_publish(user: User) -> None:
    """Uploading and selling: refused to an account suspended as a repeat infringer."""
    if user.is_authenticated and user.publishing_suspended_at is not None:
        raise errors.AccountSuspended()


def set_profile_taken_down(*, user: User, when) -> bool:
    """Hide (``when``) or show again (None) the public profile; True when it changed."""
    if when is None:
        filters = {"profile_taken_down_at__isnull": False}
    else:
        filters = {"profile_taken_down_at__isnull": True}
    return bool(User.objects.filter(pk=user.pk, **filters).update(profile_taken_down_at=when))


def set_publishing_suspended(*, user: User, when) -> bool:
    """Suspend (``when``) or lift (None) uploading and selling; True when it changed."""
    if when is None:
        filters = {"publishing_suspended_at__isnull": False}
    else:
        filters = {"publishing_suspended_at__isnull": True}
    return bool(User.objects.filter(pk=user.pk, **filters).update(publishing_suspended_at=when))
