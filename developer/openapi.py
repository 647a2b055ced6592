"""The project's AutoSchema: the ``Api-Key`` security scheme and each operation's scope (an
``x-scopes`` extension plus a line of its description), public operations marked as such, and
every error status an operation can answer, with the ``{"detail", "code"}`` body and its codes
as an enum."""

from types import SimpleNamespace

from django.contrib.auth.models import AnonymousUser
from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from veza.api_errors import ErrorOutput, ErrorResponse
from veza.scopes import Undeclared, required_scope

SCHEME_NAME = "apiKeyAuth"

# What each status answers whatever the operation (veza.exceptions, DRF, simplejwt, the API-key
# permission); a view's ErrorResponse adds its domain codes.
GENERIC_CODES: dict[str, tuple[str, ...]] = {
    "400": ("invalid", "parse_error", "bad_request", "too_many_fields"),
    "401": (
        "not_authenticated",
        "authentication_failed",
        "token_not_valid",
        "user_not_found",
        "user_inactive",
        "invalid_api_key",
    ),
    "403": ("permission_denied", "api_key_not_allowed", "insufficient_scope"),
    "404": ("not_found",),
    "405": ("method_not_allowed",),
    "406": ("not_acceptable",),
    "409": (),
    "413": ("request_too_large",),
    "415": ("unsupported_media_type",),
    "429": ("throttled",),
}
DESCRIPTIONS = {
    "400": "Invalid input: `{detail, code}`, with per-field messages when `code` is `invalid`",
    "401": "Missing, invalid, expired or revoked credentials",
    "403": "Authenticated but not allowed (or an API key without the scope)",
    "404": "Not found, or not yours to see (also a page past the last one)",
    "413": "The request body is too large",
    "415": "A body of a media type the operation does not accept",
    "429": "Rate limited; retry after `Retry-After` seconds",
}
NO_NUL = "^[^\\x00]*$"
NOT_BLANK_NO_NUL = "^[^\\x00]*[^\\x00\\s][^\\x00]*$"
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "Seconds to wait before trying again.",
        "required": True,
    }
}


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

    def _authenticates(self) -> bool:
        return bool(getattr(self.view, "authentication_classes", ()))

    def _open_to_anonymous(self) -> bool:
        """Whether every permission of the view lets an anonymous request of this method in,
        asked of the permission classes themselves (AllowAny, IsAuthenticatedOrReadOnly on a
        read, the project's own) rather than guessed from their names."""
        request = SimpleNamespace(method=self.method, user=AnonymousUser(), auth=None)
        try:
            return all(
                permission.has_permission(request, self.view)
                for permission in self.view.get_permissions()
            )
        except Exception:  # noqa: BLE001 - a permission that needs a real request: not public
            return False

    def map_parsers(self):
        # The contract: "all bodies are JSON unless an upload says multipart". DRF's form
        # parsers stay on for Django's own size limits, but a client is told about JSON only
        # (a form cannot carry a null, a list of objects or a number as the schema types it).
        media_types = super().map_parsers()
        return ["application/json"] if "application/json" in media_types else media_types

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and isinstance(schema, dict)
            and schema.get("type") == "string"
            and not {"enum", "format", "pattern"} & set(schema)
            # A regex validator gives its own pattern (drf-spectacular adds it next).
            and not any(isinstance(v, RegexValidator) for v in field.validators)
        ):
            # DRF refuses a NUL in any text, and a text that is only spaces once trimmed
            # (unless blank is allowed): the schema says so, or a client sends them in good faith.
            blank_refused = field.trim_whitespace and not field.allow_blank
            schema["pattern"] = NOT_BLANK_NO_NUL if blank_refused else NO_NUL
        return schema

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
                # veza.middleware refuses a NUL anywhere in a URL (400) before any view runs.
                schema["pattern"] = NO_NUL
        return parameters

    def get_auth(self):
        auth = super().get_auth()
        if self._key_scope() is None:
            auth = [entry for entry in auth if SCHEME_NAME not in entry]
        if auth and {} not in auth and self._open_to_anonymous():
            auth.append({})  # credentials optional: the public lists and details
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
            operation["responses"] = self._with_errors(operation)
        return operation

    def _declared_codes(self) -> dict[str, set[str]]:
        declared = self.get_response_serializers()
        codes: dict[str, set[str]] = {}
        if isinstance(declared, dict):
            for status, response in declared.items():
                status = str(status[0] if isinstance(status, tuple) else status)
                if isinstance(response, ErrorResponse):
                    codes.setdefault(status, set()).update(response.codes)
        return codes

    def _possible_errors(self, operation: dict) -> set[str]:
        """The statuses every operation of this shape can answer, declared or not."""
        parameters = operation.get("parameters", [])
        statuses = set()
        if self._authenticates():
            # A bad or revoked token is refused anywhere; an API key lacking the scope too.
            statuses |= {"401", "403"}
        if getattr(self.view, "throttle_classes", ()):
            statuses.add("429")
        if "requestBody" in operation:
            statuses |= {"400", "413", "415"}
        if any(parameter["in"] == "query" for parameter in parameters):
            statuses.add("400")
        if any(parameter["in"] == "path" for parameter in parameters) or any(
            # an unknown page, or a ?format= no renderer answers (DRF's content negotiation)
            parameter["name"] in ("page", "format")
            for parameter in parameters
        ):
            statuses.add("404")
        return statuses

    def _with_errors(self, operation: dict) -> dict:
        responses = dict(operation.get("responses", {}))
        for status in self._possible_errors(operation):
            responses.setdefault(status, {"description": DESCRIPTIONS.get(status, "")})
        declared = self._declared_codes()
        error_ref = self.resolve_serializer(ErrorOutput, "response").ref
        for status, response in responses.items():
            if not status.isdigit() or int(status) < 400:
                continue
            content = response.get("content", {}).get("application/json", {})
            own_body = content.get("schema") not in (None, error_ref)
            if own_body:
                continue  # a richer body of its own (a refused erasure names what remains)
            codes = sorted(set(GENERIC_CODES.get(status, ())) | declared.get(status, set()))
            schema = error_ref
            if codes:
                schema = {
                    "allOf": [
                        error_ref,
                        {
                            "type": "object",
                            "properties": {"code": {"type": "string", "enum": codes}},
                            "required": ["code"],
                        },
                    ]
                }
            response["content"] = {"application/json": {"schema": schema}}
            if not response.get("description"):
                response["description"] = DESCRIPTIONS.get(status, "Error")
            if status == "429":
                response["headers"] = {**response.get("headers", {}), **RETRY_AFTER}
        return dict(sorted(responses.items()))
