import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import F
from django.db.models.signals import post_delete
from django.utils import timezone

from accounts import auth_cache
from audit.services import record


class Role(models.TextChoices):
    USER = "user", "User"
    CREATOR = "creator", "Creator"
    ARTIST = "artist", "Artist"
    PRODUCER = "producer", "Producer"
    LABEL = "label", "Label"
    PREMIUM = "premium", "Premium"
    ADMIN = "admin", "Admin"


CREATOR_ROLES = frozenset({Role.CREATOR, Role.ARTIST, Role.PRODUCER, Role.LABEL, Role.ADMIN})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, username: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        if not username:
            raise ValueError("A username is required.")
        user = self.model(email=self.normalize_email(email).lower(), username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, username: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, username, password, **extra)

    def create_superuser(self, email: str, username: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True, role=Role.ADMIN, email_verified=True)
        return self._create_user(email, username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    username = models.CharField(max_length=30, unique=True)
    display_name = models.CharField(max_length=100, blank=True)
    bio = models.TextField(blank=True, max_length=2000)
    avatar_url = models.URLField(blank=True, max_length=500)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER)
    email_verified = models.BooleanField(default=False)
    # ISO 3166-1 alpha-2, upper case: where the buyer's VAT is due when an order names no
    # billing country.
    country = models.CharField(max_length=2, null=True, blank=True)
    # Bumped on logout, role change and any change of the stored password (see save()): every
    # JWT carrying an older value is rejected, which revokes all of the user's tokens at once.
    token_version = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Right to be forgotten: when the erasure job may erase the account (null unless one is
    # scheduled), and when it did (the row stays, anonymised, for the books).
    deletion_scheduled_for = models.DateTimeField(null=True, blank=True, db_index=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    # Trust and safety: a profile taken down by a moderator is hidden from everyone but its
    # owner and admins; an account suspended as a repeat infringer may not upload or sell.
    profile_taken_down_at = models.DateTimeField(null=True, blank=True)
    publishing_suspended_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("username"), name="accounts_user_username_ci_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_publishing_suspended(self) -> bool:
        return self.publishing_suspended_at is not None

    @property
    def is_creator(self) -> bool:
        return self.role in CREATOR_ROLES

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_password = instance.__dict__.get("password")
        return instance

    def save(self, *args, **kwargs):
        """Saving a new password revokes every token, whichever path changed it: the API's
        reset, the admin's password form, ``manage.py changepassword``, or ``set_password()``
        and ``save()`` in a shell. The bump is in the same UPDATE as the new hash."""
        update_fields = kwargs.get("update_fields")
        revoke = self._password_is_changing(update_fields)
        if revoke:
            previous_version = self.token_version
            self.token_version = F("token_version") + 1
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "token_version"}
        try:
            super().save(*args, **kwargs)
        except BaseException:
            if revoke:
                self.token_version = previous_version
            raise
        if revoke:
            self.refresh_from_db(fields=["token_version"])
            self.end_sessions(reason=SessionEnd.PASSWORD_CHANGED)
        self._stored_password = self.__dict__.get("password")
        # Any saved change (active flag, role, staff flags, erasure...) reaches authentication.
        auth_cache.forget(self.pk)

    def refresh_from_db(self, *args, **kwargs):
        fields = kwargs.get("fields")
        if fields is not None and getattr(self, "_load_deferred_together", False):
            # A user from the authentication cache: the first deferred field read loads them
            # all, in one statement rather than one per field.
            deferred = self.get_deferred_fields()
            if set(fields) <= deferred:
                kwargs["fields"] = fields = list(deferred)
        super().refresh_from_db(*args, **kwargs)
        if fields is None or "password" in fields:
            self._stored_password = self.__dict__.get("password")

    def _password_is_changing(self, update_fields) -> bool:
        if self._state.adding or getattr(self, "_rehashing", False):
            return False
        if update_fields is not None and "password" not in update_fields:
            return False
        if "password" not in self.__dict__:  # deferred and never assigned
            return False
        stored = getattr(self, "_stored_password", None)
        if stored is None:
            # Loaded without its hash: only set_password() tells us it changed.
            return self._password is not None
        return stored != self.password

    def check_password(self, raw_password) -> bool:
        # A correct password may be re-hashed with a newer hasher and saved: the password
        # itself did not change, so that save must not revoke anything.
        self._rehashing = True
        try:
            return super().check_password(raw_password)
        finally:
            self._rehashing = False

    async def acheck_password(self, raw_password) -> bool:
        self._rehashing = True
        try:
            return await super().acheck_password(raw_password)
        finally:
            self._rehashing = False

    def revoke_tokens(self, *, reason: str = "", request=None) -> None:
        """Invalidate every token issued so far (atomic increment, then refresh), and end
        every session: none of its tokens can work any more."""
        User.objects.filter(pk=self.pk).update(token_version=F("token_version") + 1)
        self.refresh_from_db(fields=["token_version"])
        self.end_sessions(reason=reason or SessionEnd.REVOKED, request=request)

    def end_sessions(self, *, reason: str, request=None) -> int:
        """Mark every live session of the user ended (one UPDATE) and audit it; the count.

        Called wherever ``token_version`` is bumped (logout, a role change, any new password
        however it was set), so that a session is never listed as live once its tokens are
        dead."""
        ended = Session.objects.filter(user_id=self.pk, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )
        auth_cache.forget(self.pk)  # the sessions, and a token_version bumped before this
        if ended:
            record(
                action="auth.sessions_ended",
                actor=self,
                target=self,
                request=request,
                details={"reason": str(reason), "count": ended},
            )
        return ended


class SessionEnd(models.TextChoices):
    SIGNED_OUT = "signed_out", "Signed out (every session)"
    ENDED_BY_USER = "ended_by_user", "Ended by the user"
    PASSWORD_CHANGED = "password_changed", "Password changed or reset"
    REVOKED = "revoked", "Tokens revoked (role change)"


class Session(models.Model):
    """One sign-in (login or registration): its access and refresh tokens carry its id as
    the ``sid`` claim. Ending it refuses those tokens at once (``accounts.authentication``
    loads the session with the user, in the one query it makes)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    created_at = models.DateTimeField(default=timezone.now)
    # Written at most once a minute (accounts.sessions.touch), and on each refresh.
    last_used_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=SessionEnd.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="accounts_session_user_idx"),
            models.Index(fields=["ended_at"], name="accounts_session_ended_idx"),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.user_id}"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None


def _forget_deleted(sender, instance, **kwargs) -> None:
    """A user or a session deleted (a cascade, the admin, a purge, an erasure) authenticates
    nothing from the cache any more."""
    auth_cache.forget(instance.pk if sender is User else instance.user_id)


post_delete.connect(_forget_deleted, sender=User, dispatch_uid="auth_cache_user_deleted")
post_delete.connect(_forget_deleted, sender=Session, dispatch_uid="auth_cache_session_deleted")
