"""Log plumbing: the request id on every line, JSON lines in production."""

import contextvars

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter:
    def filter(self, record) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: ``timestamp, level, logger, message, request_id`` plus any
    ``extra={...}`` fields of the call (e.g. ``method, route, status, duration_ms``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "rename_fields", {"asctime": "timestamp", "levelname": "level", "name": "logger"}
        )
        super().__init__(*args, **kwargs)
