from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken


class VezaJWTAuthentication(JWTAuthentication):
    """simplejwt's Bearer authentication plus the revocation checks: the token's
    ``token_version`` must be the user's, and its session (``sid``) must be live.

    What those checks read — the session's liveness, the user's ``token_version``, active flag
    and role — comes from the cache while nothing changed (``accounts.auth_cache``, one round
    trip, invalidated by every path that changes them), else from the database: the session
    joined to its user on the token's two ids, one statement. A revoked session is refused at
    once either way."""

    def get_user(self, validated_token):
        # Imported here: DRF loads the authentication classes when rest_framework.views is
        # first imported, which may be before the models are.
        from accounts.auth_cache import Cached
        from accounts.models import Session
        from accounts.sessions import touch
        from accounts.tokens import SESSION_CLAIM, session_id_of

        user_id = session_id_of(validated_token.get("sub"))  # a UUID string or None
        session_id = session_id_of(validated_token.get(SESSION_CLAIM))
        if user_id is None or session_id is None:
            raise InvalidToken("This token belongs to no session.")
        cached = Cached(user_id, session_id)
        if cached.entry is not None:
            user, last_used_at = cached.user(), cached.entry["last_used_at"]
        else:
            try:
                # get(), not first(): no ORDER BY (the model's ordering) to plan and sort.
                session = Session.objects.select_related("user").get(
                    pk=session_id, user_id=user_id, ended_at__isnull=True
                )
            except Session.DoesNotExist as exc:
                raise InvalidToken(
                    "This token's session has ended or its user was not found."
                ) from exc
            user, last_used_at = session.user, session.last_used_at
            cached.store(user=user, last_used_at=last_used_at)
        if not user.is_active:
            raise InvalidToken("The token's user was not found or is inactive.")
        if validated_token.get("token_version") != user.token_version:
            raise InvalidToken("This token has been revoked.")
        used = touch(session_id, last_used_at)
        if used != last_used_at:
            cached.store(user=user, last_used_at=used)
        return user


class VezaJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.VezaJWTAuthentication"
    name = "jwtAuth"
