from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken


class VezaJWTAuthentication(JWTAuthentication):
    """simplejwt's Bearer authentication plus the revocation check on ``token_version``."""

    def get_user(self, validated_token):
        try:
            user = super().get_user(validated_token)
        except AuthenticationFailed as exc:
            raise InvalidToken("The token's user was not found or is inactive.") from exc
        if validated_token.get("token_version") != user.token_version:
            raise InvalidToken("This token has been revoked.")
        return user


class VezaJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.VezaJWTAuthentication"
    name = "jwtAuth"
