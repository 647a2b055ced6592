"""``Authorization: Api-Key <key>``: the key's owner becomes ``request.user``, the key
``request.auth``, and the key may act only within its scopes (``ApiKeyScope``)."""

from rest_framework import authentication, exceptions

from developer.permissions import ApiKeyScope

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() != KEYWORD.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Api-Key header takes exactly one key.", code="invalid_api_key"
            )
        try:
            key = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(
                "Unknown or revoked API key.", code="invalid_api_key"
            ) from exc
        api_key = self._lookup(key)
        if api_key is None or not api_key.owner.is_active:
            raise exceptions.AuthenticationFailed(
                "Unknown or revoked API key.", code="invalid_api_key"
            )
        # Enforced here, where every view that accepts keys passes, so that a view's own
        # permission_classes cannot leave the scope check out.
        view = (getattr(request, "parser_context", None) or {}).get("view")
        ApiKeyScope().check(request=request, view=view, api_key=api_key)
        api_key.touch()
        return api_key.owner, api_key

    @staticmethod
    def _lookup(key: str):
        # Imported here: DRF loads the authentication classes when rest_framework.views is
        # first imported, which may be before the models are.
        from developer.models import APIKey

        prefix, dot, _ = key.partition(".")
        if not dot or not prefix:
            return None
        # One query on the UNIQUE prefix; the hash is compared in constant time.
        api_key = (
            APIKey.objects.select_related("owner").filter(prefix=prefix, revoked=False).first()
        )
        if api_key is None or api_key.has_expired or not api_key.is_valid(key):
            return None
        return api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD
