import logging
import re
import time
import uuid

from django.http import HttpResponseBadRequest, JsonResponse
from prometheus_client import Counter, Histogram

from veza.client_ip import client_ip
from veza.exceptions import bad_request_answer
from veza.logging import request_id_var

logger = logging.getLogger("veza.request")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_PROBE_PATHS = frozenset({"/health", "/healthz", "/readyz", "/metrics"})

# The seed's dashboard names, next to django-prometheus's own series. Labelled by the route
# pattern (never the raw path: ids and tokens would make one series per object).
http_requests = Counter(
    "veza_http_requests_total",
    "HTTP requests by method, route and status.",
    ["method", "route", "status"],
)
http_request_duration = Histogram(
    "veza_http_request_duration_seconds",
    "HTTP request duration by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestIdMiddleware:
    """Takes ``X-Request-ID`` (when it looks sane) or makes one; echoes it on the response.

    Logs one line per request: method, route, status, duration. Never the query string or
    headers (tokens, signatures), and the route pattern rather than the raw path, so a
    capability token in a URL (a share link, a signed download) is not written to the logs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            _log_request(request, response.status_code, time.monotonic() - started)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _log_request(request, status: int, duration: float) -> None:
    match = getattr(request, "resolver_match", None)
    resolved = match is not None and bool(match.route)
    # An unresolved path carries no capability token: every tokened URL matches its route.
    route = f"/{match.route}" if resolved else request.path[:200]
    method = request.method if request.method in _KNOWN_METHODS else "other"
    metric_route = route if resolved else "unmatched"
    http_requests.labels(method=method, route=metric_route, status=str(status)).inc()
    http_request_duration.labels(method=method, route=metric_route).observe(duration)
    level = logging.DEBUG if request.path in _PROBE_PATHS else logging.INFO
    logger.log(
        level,
        "%s %s %s %.1fms",
        request.method,
        route,
        status,
        duration * 1000,
        extra={
            "method": request.method,
            "route": route,
            "status": status,
            "duration_ms": round(duration * 1000, 1),
            "client_ip": client_ip(request),
        },
    )


class RejectNulMiddleware:
    """A NUL character in the path or the query string is refused with 400 ``invalid``.

    PostgreSQL text columns cannot hold NUL: any such string reaching a query (a username
    in the path, a share token, ``?q=``, a filter) would fail there with a 500 that SQLite
    never shows. One guard in front of every view instead of a check at each query; JSON
    bodies are covered by DRF's CharField, which refuses NUL on its own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "\x00" in query or "%00" in query:
            if _is_api(request):
                return JsonResponse(
                    {"detail": "NUL characters are not allowed in URLs.", "code": "invalid"},
                    status=400,
                )
            return HttpResponseBadRequest("NUL characters are not allowed in URLs.")
        return self.get_response(request)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


class JsonApiErrorsMiddleware:
    """API paths never answer with an HTML page: 404s and unhandled errors become JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            _is_api(request)
            and response.status_code in (400, 403, 404, 405, 413)
            and not response.get("Content-Type", "").startswith("application/json")
            and not request.path.startswith(("/api/docs", "/api/redoc"))
        ):
            replacement = _json_for_status(response.status_code)
            # Keep what inner middlewares added (CORS, Vary, Allow, security headers).
            for header, value in response.items():
                if header.lower() not in ("content-type", "content-length"):
                    replacement[header] = value
            return replacement
        return response

    def process_exception(self, request, exception):
        if not _is_api(request):
            return None
        refused = bad_request_answer(exception)
        if refused is not None:
            status, detail, code = refused
            logger.warning("Refused %s %s: %s", request.method, request.path, exception)
            return JsonResponse({"detail": detail, "code": code}, status=status)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse(
            {"detail": "An internal error occurred.", "code": "server_error"}, status=500
        )


_DEFAULTS = {
    400: ("Bad request.", "bad_request"),
    403: ("You do not have permission to perform this action.", "permission_denied"),
    404: ("Not found.", "not_found"),
    405: ("Method not allowed.", "method_not_allowed"),
    413: ("The request body is too large.", "request_too_large"),
}


def _json_for_status(status: int) -> JsonResponse:
    detail, code = _DEFAULTS[status]
    return JsonResponse({"detail": detail, "code": code}, status=status)
