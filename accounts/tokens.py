"""JWTs with the contract's claims: sub, iss, aud, exp, iat, token_version, role, and sid
(the sign-in session, ``accounts.sessions``) that the access token inherits from its refresh."""

import uuid

import jwt
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Session
from accounts.sessions import start_session

SESSION_CLAIM = "sid"


class VezaRefreshToken(RefreshToken):
    @classmethod
    def for_user(cls, user, *, session: Session | None = None):
        token = super().for_user(user)
        token["token_version"] = user.token_version
        token["role"] = user.role
        if session is not None:
            token[SESSION_CLAIM] = str(session.pk)
        return token


def issue_tokens(user, *, request=None) -> dict[str, str]:
    """A sign-in: a new session, and its first token pair."""
    session = start_session(user=user, request=request)
    refresh = VezaRefreshToken.for_user(user, session=session)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


class VezaTokenObtainSerializer(TokenObtainPairSerializer):
    token_class = VezaRefreshToken


class VezaTokenRefreshSerializer(TokenRefreshSerializer):
    """Rotation with a current user check: a refresh token from before a revocation is dead."""

    token_class = VezaRefreshToken
    refresh = serializers.CharField()

    def validate(self, attrs):
        with transaction.atomic():
            # Lock the token's row so two concurrent uses of one refresh token cannot both
            # pass the blacklist check: the second waits, then finds it blacklisted.
            jti = _unverified_jti(attrs["refresh"])
            if jti:
                list(OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=jti))
            return self._validate_locked(attrs)

    def _validate_locked(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user = get_user_model().objects.filter(pk=refresh.get("sub")).first()
        if user is None or not user.is_active:
            raise InvalidToken("The user of this token no longer exists or is inactive.")
        if refresh.get("token_version") != user.token_version:
            raise InvalidToken("This token has been revoked.")
        # A refresh keeps its session, and is a use of it; an ended session refreshes no more.
        used = Session.objects.filter(
            pk=session_id_of(refresh.get(SESSION_CLAIM)), user=user, ended_at__isnull=True
        ).update(last_used_at=timezone.now())
        if not used:
            raise InvalidToken("This session has ended.")
        # Role changes bump token_version, so a token that passed the check above still
        # carries the user's current role; rotation copies its claims to the new pair.
        return super().validate(attrs)


def session_id_of(value) -> str | None:
    """The ``sid`` claim as a UUID string, or None (a token from before sessions, or forged
    past the signature: neither names a session)."""
    try:
        return str(uuid.UUID(str(value))) if value else None
    except ValueError:
        return None


def _unverified_jti(raw: str) -> str | None:
    try:
        claims = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    jti = claims.get("jti")
    return jti if isinstance(jti, str) else None
