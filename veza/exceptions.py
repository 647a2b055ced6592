"""One place where errors become HTTP: DRF's exceptions and the apps' domain errors."""

import logging

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, UnreadablePostError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule said no. Subclasses set ``code``, ``status_code`` and a default detail."""

    code = "error"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."

    def __init__(self, detail: str | None = None, **extra):
        self.detail = detail or self.default_detail
        # More members of the error body (``remaining`` of a refused erasure...), beside
        # ``detail`` and ``code``.
        self.extra = extra
        super().__init__(self.detail)


def bad_request_answer(exc: BaseException) -> tuple[int, str, str] | None:
    """``(status, detail, code)`` when ``exc`` is Django refusing the client's request (a body
    over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, too many fields, a suspicious header or path...);
    None for a real server error. Django itself answers 400 for these; never a 500."""
    if isinstance(exc, RequestDataTooBig):
        return 413, "The request body is too large.", "request_too_large"
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return 400, "The request has too many fields or files.", "too_many_fields"
    if isinstance(exc, SuspiciousOperation | BadRequest):
        return 400, "The request is malformed.", "bad_request"
    if isinstance(exc, UnreadablePostError):
        return 400, "The request body could not be read.", "bad_request"
    return None


def exception_handler(exc, context):
    refused = bad_request_answer(exc)
    if refused is not None:
        status_code, detail, code = refused
        return Response({"detail": detail, "code": code}, status=status_code)
    if isinstance(exc, DomainError):
        body = {**getattr(exc, "extra", {}), "detail": exc.detail, "code": exc.code}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        body = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        body = dict(body)
        body.setdefault("detail", _first_message(body) or "Invalid input.")
        body["code"] = "invalid"
        response.data = body
        return response

    detail = getattr(exc, "detail", None)
    code = _code_of(exc)
    if isinstance(detail, dict):
        message = detail.get("detail") or _first_message(detail) or str(exc)
    elif isinstance(detail, list):
        message = " ".join(str(d) for d in detail)
    else:
        message = str(detail) if detail is not None else str(exc)
    response.data = {"detail": str(message), "code": code}
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
    return response


def _code_of(exc) -> str:
    codes = exc.get_codes() if hasattr(exc, "get_codes") else None
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        value = codes.get("code") or codes.get("detail")
        if isinstance(value, str):
            return value
        if isinstance(value, list) and value:
            return str(value[0])
    return getattr(exc, "default_code", "error")


def _first_message(data) -> str | None:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("code",):
                continue
            found = _first_message(value)
            if found:
                return found if key in ("detail", "non_field_errors") else f"{key}: {found}"
    elif isinstance(data, list):
        for value in data:
            found = _first_message(value)
            if found:
                return found
    elif data:
        return str(data)
    return None
