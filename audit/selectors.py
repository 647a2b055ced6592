"""Reads over the audit log: filtered lists, statistics and suspicious patterns."""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from audit.models import AuditLog

SIGNATURE_FAILURES_KEY = "audit:webhook-signature-failures"


def stats(*, days: int) -> dict:
    since = timezone.now() - timedelta(days=days)
    entries = AuditLog.objects.filter(created_at__gte=since)
    by_action = entries.values("action").annotate(count=Count("pk")).order_by("-count", "action")
    by_day = (
        entries.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by("day")
    )
    top_actors = (
        entries.exclude(actor=None)
        .values("actor_id", "actor__username")
        .annotate(count=Count("pk"))
        .order_by("-count")[:10]
    )
    return {
        "window_days": days,
        "since": since,
        "total": entries.count(),
        "by_action": list(by_action),
        "by_day": [{"day": row["day"], "count": row["count"]} for row in by_day],
        "top_actors": [
            {"actor_id": row["actor_id"], "username": row["actor__username"], "count": row["count"]}
            for row in top_actors
        ],
    }


def suspicious(*, hours: int | None = None) -> dict:
    hours = hours or settings.AUDIT_SUSPICIOUS_WINDOW_HOURS
    since = timezone.now() - timedelta(hours=hours)
    failed = AuditLog.objects.filter(action="auth.login_failed", created_at__gte=since)
    login_threshold = settings.AUDIT_SUSPICIOUS_FAILED_LOGINS
    by_ip = (
        failed.exclude(ip_address=None)
        .values("ip_address")
        .annotate(count=Count("pk"))
        .filter(count__gte=login_threshold)
        .order_by("-count")
    )
    by_account = (
        failed.values("details__email")
        .annotate(count=Count("pk"))
        .filter(count__gte=login_threshold)
        .order_by("-count")
    )
    refund_bursts = (
        AuditLog.objects.filter(action="refund.requested", created_at__gte=since)
        .exclude(actor=None)
        .values("actor_id", "actor__username")
        .annotate(count=Count("pk"))
        .filter(count__gte=settings.AUDIT_SUSPICIOUS_REFUND_REQUESTS)
        .order_by("-count")
    )
    signature_failures = cache.get(SIGNATURE_FAILURES_KEY) or {}
    return {
        "window_hours": hours,
        "thresholds": {
            "failed_logins": login_threshold,
            "refund_requests": settings.AUDIT_SUSPICIOUS_REFUND_REQUESTS,
            "webhook_signature_failures": settings.AUDIT_SUSPICIOUS_SIGNATURE_FAILURES,
        },
        "failed_logins_by_ip": [
            {"ip_address": row["ip_address"], "count": row["count"]} for row in by_ip
        ],
        "failed_logins_by_account": [
            {"email": row["details__email"], "count": row["count"]} for row in by_account
        ],
        "refund_request_bursts": [
            {"actor_id": row["actor_id"], "username": row["actor__username"], "count": row["count"]}
            for row in refund_bursts
        ],
        "webhook_signature_failures_by_ip": sorted(
            (
                {"ip_address": ip, "count": count}
                for ip, count in signature_failures.items()
                if count >= settings.AUDIT_SUSPICIOUS_SIGNATURE_FAILURES
            ),
            key=lambda row: -row["count"],
        ),
    }


def note_signature_failure(ip: str | None) -> None:
    """Count forged/unsigned webhook deliveries per IP in the cache (never in the database:
    a refused delivery stores nothing)."""
    key = ip or "unknown"
    failures = cache.get(SIGNATURE_FAILURES_KEY) or {}
    failures[key] = failures.get(key, 0) + 1
    cache.set(SIGNATURE_FAILURES_KEY, failures, settings.AUDIT_SUSPICIOUS_WINDOW_HOURS * 3600)
