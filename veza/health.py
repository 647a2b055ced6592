"""Liveness, readiness and status endpoints (no /api/v1 prefix)."""

import os
import time

import httpx
from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.response import Response

from veza.replicas import replica_states

STARTED_AT = time.monotonic()

_no_auth = [
    authentication_classes([]),
    permission_classes([]),
    throttle_classes([]),
]


def _public(view):
    for decorator in reversed(_no_auth):
        view = decorator(view)
    return view


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return None


def check_cache() -> str | None:
    if not settings.REDIS_URL:
        return None
    try:
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


def check_broker() -> str | None:
    if not settings.CELERY_BROKER_URL:
        return None
    try:
        from veza.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


def check_http(url: str) -> str | None:
    try:
        response = httpx.get(url.rstrip("/") + "/health", timeout=1.0)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return None if response.status_code < 500 else f"HTTP {response.status_code}"


def draining() -> bool:
    """gunicorn was told to stop (gunicorn.conf.py): leave the balancer before the socket closes."""
    return bool(settings.DRAIN_FLAG_FILE) and os.path.exists(settings.DRAIN_FLAG_FILE)


def _state(error: str | None, enabled: bool = True) -> dict:
    if not enabled:
        return {"status": "disabled"}
    return {"status": "ok"} if error is None else {"status": "down", "error": error}


_simple = inline_serializer("HealthStatus", {"status": serializers.CharField()})


@extend_schema(tags=["operations"], responses={200: _simple})
@api_view(["GET"])
@_public
def health(request):
    return Response({"status": "ok"})


@extend_schema(tags=["operations"], responses={200: _simple})
@api_view(["GET"])
@_public
def healthz(request):
    """Liveness: the process answers. Touches nothing external."""
    return Response({"status": "ok"})


@extend_schema(
    tags=["operations"],
    responses={
        200: inline_serializer(
            "Readiness",
            {"status": serializers.CharField(), "checks": serializers.DictField()},
        ),
        503: inline_serializer(
            "NotReady",
            {
                "status": serializers.CharField(),
                "failing": serializers.ListField(child=serializers.CharField()),
                "checks": serializers.DictField(),
            },
        ),
    },
)
@api_view(["GET"])
@_public
def readyz(request):
    """Readiness: the database, and Redis and the broker where they are configured."""
    checks = {
        "database": _state(check_database()),
        "cache": _state(check_cache(), enabled=bool(settings.REDIS_URL)),
        "broker": _state(check_broker(), enabled=bool(settings.CELERY_BROKER_URL)),
    }
    replicas = replica_states(fresh=True)
    if replicas:
        # Named, never failing: catalogue reads fall back to the primary without them.
        checks["replicas"] = replicas
    failing = [name for name, state in checks.items() if state.get("status") == "down"]
    if draining():
        failing.append("draining")
    if failing:
        reason = "shutting down" if failing == ["draining"] else f"{', '.join(failing)} unreachable"
        return Response(
            {
                "status": "unavailable",
                "detail": f"Not ready: {reason}.",
                "code": "not_ready",
                "failing": failing,
                "checks": checks,
            },
            status=503,
        )
    return Response({"status": "ok", "checks": checks})


@extend_schema(
    tags=["operations"],
    responses={
        200: inline_serializer(
            "Status",
            {
                "status": serializers.CharField(),
                "version": serializers.CharField(),
                "environment": serializers.CharField(),
                "uptime_seconds": serializers.IntegerField(),
                "dependencies": serializers.DictField(),
            },
        )
    },
)
@api_view(["GET"])
@_public
def status_view(request):
    """Every dependency's state, the version and the uptime (always 200; read the fields)."""
    deps = {
        "database": _state(check_database()),
        "cache": _state(check_cache(), enabled=bool(settings.REDIS_URL)),
        "broker": _state(check_broker(), enabled=bool(settings.CELERY_BROKER_URL)),
        "chat_server": _state(
            check_http(settings.CHAT_SERVER_URL) if settings.CHAT_SERVER_URL else None,
            enabled=bool(settings.CHAT_SERVER_URL),
        ),
        "stream_server": _state(
            check_http(settings.STREAM_SERVER_URL) if settings.STREAM_SERVER_URL else None,
            enabled=bool(settings.STREAM_SERVER_URL),
        ),
    }
    degraded = any(d["status"] == "down" for d in deps.values())
    replicas = replica_states(fresh=True)
    if replicas:
        deps["replicas"] = replicas
        degraded = degraded or any(r["status"] != "ok" for r in replicas.values())
    return Response(
        {
            "status": "degraded" if degraded else "ok",
            "version": settings.VERSION,
            "environment": settings.APP_ENV,
            "uptime_seconds": int(time.monotonic() - STARTED_AT),
            "dependencies": deps,
        }
    )
