"""The one permission of the API keys: a key acts only within its scopes."""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from veza.scopes import Undeclared, required_scope

NOT_FOR_KEYS = "This endpoint does not accept API keys; sign in instead."


def is_api_key(auth) -> bool:
    return getattr(auth, "IS_API_KEY", False) is True


class ApiKeyScope(BasePermission):
    """Allows a JWT (or anonymous) request untouched; an Api-Key request only where the view
    declares a scope (``veza.scopes``) that the key holds.

    ``ApiKeyAuthentication`` runs it as soon as it has found the key, before the view's own
    permissions: a view that sets its own ``permission_classes`` (most do) cannot leave it
    out, which a place in DEFAULT_PERMISSION_CLASSES would not guarantee.
    """

    def has_permission(self, request, view) -> bool:
        if is_api_key(request.auth):
            self.check(request=request, view=view, api_key=request.auth)
        return True

    @staticmethod
    def check(*, request, view, api_key) -> None:
        try:
            scope = required_scope(view, request.method) if view is not None else None
        except Undeclared:
            scope = None
        if scope is None:
            raise PermissionDenied(NOT_FOR_KEYS, code="api_key_not_allowed")
        if scope not in api_key.scopes:
            raise PermissionDenied(
                f"This API key lacks the {scope!r} scope needed for this request.",
                code="insufficient_scope",
            )
