"""Reads: the moderators' queue, a user's decisions, and the transparency figures."""

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Min, Prefetch, QuerySet

from moderation.models import Appeal, Category, Decision, Report, Suspension, TargetType


def report_queue(*, status: str | None = None) -> QuerySet:
    """Reports oldest first (the queue's order), with what the moderators read beside each:
    the decision's action joined as ``decision_action``. The queue shows the reporter, the
    target's owner and the decision by id only, so no user or decision row is loaded."""
    reports = Report.objects.annotate(decision_action=F("decision__action"))
    if status:
        reports = reports.filter(status=status)
    return reports.order_by("created_at", "pk")


def appeal_queue(*, status: str | None = None) -> QuerySet:
    appeals = Appeal.objects.select_related("decision", "author", "decided_by")
    if status:
        appeals = appeals.filter(status=status)
    return appeals.order_by("created_at", "pk")


def decisions_of(*, user) -> QuerySet:
    """The decisions on the user's content, newest first, each with its appeal (no query per
    row: the one-to-one appeal is joined)."""
    return (
        Decision.objects.filter(target_owner=user)
        .select_related("appeal")
        .order_by("-created_at", "-pk")
    )


def reports_sent_by(*, user) -> Iterator[dict]:
    """The notices the user sent (DSA art. 16), as they were received: the data export's."""
    fields = ("id", "target_type", "target_id", "category", "description", "copyright")
    reports = Report.objects.filter(reporter=user).order_by("created_at")
    return reports.values(*fields, "reporter_email", "status", "created_at").iterator()


def target_history(*, target_type: str, target_id) -> QuerySet:
    return (
        Decision.objects.filter(target_type=target_type, target_id=target_id)
        .select_related("moderator", "appeal")
        .prefetch_related(Prefetch("reports", queryset=Report.objects.order_by("created_at")))
        .order_by("-created_at")
    )


@dataclass(frozen=True)
class TransparencyFigures:
    """The DSA transparency report's figures for one period (art. 15 and 24)."""

    period_from: datetime
    period_to: datetime
    reports: int
    reports_by_category: dict[str, int]
    reports_by_target_type: dict[str, int]
    decisions: int
    decisions_by_action: dict[str, int]
    decisions_by_ground: dict[str, int]
    automated_decisions: int
    median_hours_to_decision: float | None
    appeals_received: int
    appeals_decided: int
    decisions_reversed: int
    suspensions: int


def _counts(queryset: QuerySet, field: str, choices) -> dict[str, int]:
    found = dict(queryset.order_by().values_list(field).annotate(n=Count("pk")))
    return {value: found.get(value, 0) for value in choices}


def transparency(*, period_from: datetime, period_to: datetime) -> TransparencyFigures:
    """Counts over [from, to): reports received, decisions taken, appeals received, and the
    median time from a report to its decision (reports received and decided in the period)."""
    reports = Report.objects.filter(created_at__gte=period_from, created_at__lt=period_to)
    decisions = Decision.objects.filter(created_at__gte=period_from, created_at__lt=period_to)
    appeals = Appeal.objects.filter(created_at__gte=period_from, created_at__lt=period_to)
    waits = [
        (decided - created).total_seconds() / 3600
        for created, decided in reports.filter(decided_at__isnull=False)
        .order_by()
        .values_list("created_at", "decided_at")
    ]
    by_ground = _counts(decisions.exclude(ground=""), "ground", Decision.Ground.values)
    return TransparencyFigures(
        period_from=period_from,
        period_to=period_to,
        reports=reports.count(),
        reports_by_category=_counts(reports, "category", Category.values),
        reports_by_target_type=_counts(reports, "target_type", TargetType.values),
        decisions=decisions.count(),
        decisions_by_action=_counts(decisions, "action", Decision.Action.values),
        decisions_by_ground=by_ground,
        automated_decisions=decisions.filter(automated=True).count(),
        median_hours_to_decision=round(statistics.median(waits), 2) if waits else None,
        appeals_received=appeals.count(),
        appeals_decided=appeals.filter(status=Appeal.Status.DECIDED).count(),
        decisions_reversed=Decision.objects.filter(
            reversed_at__gte=period_from, reversed_at__lt=period_to
        ).count(),
        suspensions=Suspension.objects.filter(
            started_at__gte=period_from, started_at__lt=period_to
        ).count(),
    )


def open_targets() -> list[dict]:
    """The admin queue: one row per target with open reports (how many, the oldest's date),
    the target whose oldest open report is oldest first."""
    return list(
        Report.objects.filter(status=Report.Status.RECEIVED)
        .order_by()
        .values("target_type", "target_id")
        .annotate(reports=Count("pk"), oldest=Min("created_at"))
        .order_by("oldest", "target_id")
    )


def open_target_count() -> int:
    return (
        Report.objects.filter(status=Report.Status.RECEIVED)
        .order_by()
        .values("target_type", "target_id")
        .distinct()
        .count()
    )
