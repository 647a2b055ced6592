"""The staff overview of refunds and webhooks, rendered on the server (no JavaScript, no CDN)."""

from collections import defaultdict
from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.template.response import TemplateResponse
from django.utils import timezone

from payments.admin.common import STATUS_COLOURS
from payments.models import Refund, WebhookEvent
from payments.refunds.selectors import stuck_refunds
from veza.admin_tools import add_site_view

CHART_DAYS = 14


def refunds_per_day(days: int = CHART_DAYS) -> list[dict]:
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    rows = (
        Refund.objects.filter(created_at__date__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(n=Count("pk"))
    )
    counts: dict = defaultdict(lambda: defaultdict(int))
    for row in rows:
        counts[row["day"]][row["status"]] += row["n"]
    return [
        {"day": start + timedelta(days=i), "counts": dict(counts[start + timedelta(days=i)])}
        for i in range(days)
    ]


def svg_chart(series: list[dict], width: int = 700, height: int = 180) -> dict:
    """Stacked bars per day, as numbers for the template's inline <svg>."""
    peak = max([sum(d["counts"].values()) for d in series] + [1])
    slot = width / len(series)
    bars = []
    for index, day in enumerate(series):
        y = height
        for status in ("succeeded", "failed", "pending"):
            n = day["counts"].get(status, 0)
            if not n:
                continue
            h = n / peak * (height - 20)
            y -= h
            bars.append(
                {
                    "x": round(index * slot + 4, 1),
                    "y": round(y, 1),
                    "w": round(slot - 8, 1),
                    "h": round(h, 1),
                    "colour": STATUS_COLOURS[status],
                    "title": f"{day['day']:%d %b}: {n} {status}",
                }
            )
    labels = [
        {"x": round(i * slot + slot / 2, 1), "text": f"{d['day']:%d/%m}"}
        for i, d in enumerate(series)
    ]
    return {"width": width, "height": height, "bars": bars, "labels": labels, "peak": peak}


def overview_view(request):
    if not request.user.has_perm("payments.view_refund"):
        raise PermissionDenied
    now = timezone.now()
    week_ago = now - timedelta(days=7)
    by_status = {
        row["status"]: row["n"]
        for row in Refund.objects.values("status").annotate(n=Count("pk")).order_by()
    }
    refunded_week = (
        Refund.objects.filter(status=Refund.Status.SUCCEEDED, succeeded_at__gte=week_ago)
        .values("currency")
        .annotate(total=Sum("amount"), n=Count("pk"))
        .order_by("currency")
    )
    webhook_rows = (
        WebhookEvent.objects.filter(received_at__gte=week_ago)
        .annotate(day=TruncDate("received_at"))
        .values("day", "outcome")
        .annotate(n=Count("pk"))
        .order_by("-day", "outcome")
    )
    webhook_table: dict = defaultdict(lambda: defaultdict(int))
    for row in webhook_rows:
        webhook_table[row["day"]][row["outcome"]] += row["n"]
    outcomes = [choice for choice, _ in WebhookEvent.Outcome.choices]
    stuck = stuck_refunds().select_related("order__buyer", "requested_by").order_by("created_at")
    context = {
        **admin.site.each_context(request),
        "title": "Refunds and webhooks overview",
        "by_status": [
            {"status": s, "count": by_status.get(s, 0), "colour": STATUS_COLOURS[s]}
            for s in ("awaiting_approval", "pending", "succeeded", "failed", "rejected")
        ],
        "refunded_week": list(refunded_week),
        "week_ago": week_ago,
        "stuck": stuck[:50],
        "stuck_count": stuck.count(),
        "outcomes": outcomes,
        "webhook_days": [
            {"day": day, "counts": [webhook_table[day].get(o, 0) for o in outcomes]}
            for day in sorted(webhook_table, reverse=True)
        ],
        "chart": svg_chart(refunds_per_day()),
        "colours": STATUS_COLOURS,
    }
    return TemplateResponse(request, "admin/payments/overview.html", context)


add_site_view("payments/overview/", overview_view, name="payments-overview")
