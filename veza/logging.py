"""Log plumbing: the request id on every line, JSON lines in production."""

import contextvars

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter:
    def filter(self, record) -> bool:
        if not hasattr(record, "request_id"):
            request_id = request_id_var.get()
            if request_id == "-":
                # django.request logs "Not Found"/"Unauthorized" after the middleware has
                # returned (the contextvar is reset by then), but hands over the request.
                request_id = getattr(getattr(record, "request", None), "request_id", "-")
            record.request_id = request_id
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: ``timestamp, level, logger, message, request_id`` plus any
    ``extra={...}`` fields of the call (e.g. ``method, route, status, duration_ms``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "rename_fields", {"asctime": "timestamp", "levelname": "level", "name": "logger"}
        )
        # Django attaches the request object to some records: its repr holds the full URL.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__(*args, **kwargs)
