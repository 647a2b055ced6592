"""The schema's side of API keys: the ``Api-Key`` security scheme and each operation's scope
(an ``x-scopes`` extension plus a line of its description)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from veza.scopes import Undeclared, required_scope

SCHEME_NAME = "apiKeyAuth"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "developer.authentication.ApiKeyAuthentication"
    name = SCHEME_NAME

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Authorization: Api-Key <key>` — a key made at `/api/v1/developer/api-keys`, "
                "acting as its owner within its scopes (each operation's `x-scopes`)."
            ),
        }


class VezaAutoSchema(AutoSchema):
    def _key_scope(self) -> str | None:
        try:
            return required_scope(self.view, self.method)
        except Undeclared:
            return None

    def get_auth(self):
        auth = super().get_auth()
        if self._key_scope() is None:
            auth = [entry for entry in auth if SCHEME_NAME not in entry]
        return auth

    def get_description(self):
        description = super().get_description() or ""
        scope = self._key_scope()
        note = f"API keys need the `{scope}` scope." if scope else "Not available to API keys."
        return f"{description}\n\n{note}" if description else note

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            scope = self._key_scope()
            operation["x-scopes"] = [scope] if scope else []
        return operation
