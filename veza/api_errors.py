"""How an operation's error answers are declared for the OpenAPI schema.

Every error body is ``{"detail", "code"}`` (``veza.exceptions``). A view names the statuses
and the domain codes only it can give — ``ErrorResponse("Already decided", "already_decided")``
in its ``extend_schema(responses=...)`` — and ``developer.openapi.VezaAutoSchema`` adds what
every operation can answer (401 for a bad token, 403 for an API key without the scope, 429 with
``Retry-After``, 400 for a malformed body or query, 404 for an unknown id or page), each with
the ``code`` values it can carry as an enum.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers


@extend_schema_serializer(component_name="Error")
class ErrorOutput(serializers.Serializer):
    """Every error: a sentence for people and a stable code for programs. A validation error
    (code `invalid`) also carries DRF's per-field lists of messages."""

    detail = serializers.CharField()
    code = serializers.CharField()


class ErrorResponse(OpenApiResponse):
    """An error answer of one operation and the domain ``codes`` it may carry (on top of the
    generic ones of its status)."""

    def __init__(self, description: str = "", *codes: str, response=ErrorOutput):
        super().__init__(response=response, description=description)
        self.codes = tuple(codes)
