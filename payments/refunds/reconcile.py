"""Refunds the provider never confirmed: ask again, and apply a terminal answer through the
webhook's path (``apply_refund_status``)."""

import logging
from collections import defaultdict
from enum import StrEnum

from payments import errors
from payments.metrics import refund_reconciliations
from payments.models import Refund
from payments.providers import ProviderError, get_provider
from payments.refunds.selectors import stuck_refunds
from payments.refunds.services import submit_refund
from payments.refunds.settle import apply_refund_status

logger = logging.getLogger(__name__)


class ReconcileOutcome(StrEnum):
    """How asking the provider about one refund ended (also the metric's label)."""

    TERMINAL = "terminal"  # settled already: nothing was asked
    AWAITING_APPROVAL = "awaiting_approval"  # never sent: a second Finance member decides first
    STILL_PENDING = "still_pending"
    UNREACHABLE = "unreachable"  # no answer (or an unknown outcome): asked again next run
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @classmethod
    def of(cls, status: Refund.Status) -> "ReconcileOutcome":
        return cls.SUCCEEDED if status == Refund.Status.SUCCEEDED else cls.FAILED


def reconcile_refund(*, refund: Refund) -> ReconcileOutcome:
    """Ask the provider where a pending refund stands and apply a terminal answer.

    A refund with no provider id (a crash or an unknown outcome between phases 1 and 2) is
    re-submitted with the same id: the provider deduplicates on it.
    """
    refund = Refund.objects.select_related("order").get(pk=refund.pk)
    if refund.is_terminal:
        return ReconcileOutcome.TERMINAL
    if refund.status == Refund.Status.AWAITING_APPROVAL:
        # The provider is asked only once a second member approves.
        return ReconcileOutcome.AWAITING_APPROVAL
    provider = get_provider()
    try:
        if refund.provider_refund_id is None:
            try:
                submission = submit_refund(refund=refund)
            except errors.ProviderRefused:
                return _counted(ReconcileOutcome.FAILED)
            if not submission.accepted:
                return _counted(ReconcileOutcome.UNREACHABLE)
            refund.refresh_from_db()
        result = provider.get_refund(refund.provider_refund_id or str(refund.pk))
    except ProviderError as exc:
        if exc.not_found:
            apply_refund_status(
                refund_id=refund.pk,
                status=Refund.Status.FAILED,
                error_message="The payment provider has no record of this refund.",
                source="reconciliation",
            )
            return _counted(ReconcileOutcome.FAILED)
        return _counted(ReconcileOutcome.UNREACHABLE)
    if not result.is_terminal:
        return _counted(ReconcileOutcome.STILL_PENDING)
    apply_refund_status(
        refund_id=refund.pk,
        provider_refund_id=result.refund_id,
        status=result.status,
        error_message=result.error_message or "",
        source="reconciliation",
    )
    return _counted(ReconcileOutcome.of(result.status))


def _counted(outcome: ReconcileOutcome) -> ReconcileOutcome:
    refund_reconciliations.labels(outcome=outcome.value).inc()
    return outcome


def reconcile_refunds() -> dict[str, int]:
    """Every stuck refund asked about again, oldest first (beat and ``manage.py``): how many
    ended each way, by ``ReconcileOutcome`` (``error`` when one raised)."""
    summary: dict[str, int] = defaultdict(int)
    for refund in stuck_refunds().order_by("created_at"):
        try:
            summary[reconcile_refund(refund=refund).value] += 1
        except Exception:  # noqa: BLE001 - one bad refund must not stop the others
            logger.exception("reconciliation of refund %s failed", refund.pk)
            summary["error"] += 1
    return dict(summary)
