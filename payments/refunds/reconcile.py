"""Refunds the provider never confirmed: ask again, and apply a terminal answer through the
webhook's path (``apply_refund_status``)."""

import logging
from collections import defaultdict

from payments import errors
from payments.metrics import refund_reconciliations
from payments.models import Refund
from payments.providers import ProviderError, get_provider
from payments.refunds.selectors import stuck_refunds
from payments.refunds.services import apply_refund_status, submit_refund

logger = logging.getLogger(__name__)


def reconcile_refund(*, refund: Refund) -> str:
    """Ask the provider where a pending refund stands and apply a terminal answer.

    A refund with no provider id (a crash or an unknown outcome between phases 1 and 2) is
    re-submitted with the same id: the provider deduplicates on it.
    """
    refund = Refund.objects.select_related("order").get(pk=refund.pk)
    if refund.is_terminal:
        return "terminal"
    if refund.status == Refund.Status.AWAITING_APPROVAL:
        return "awaiting_approval"  # the provider is asked only once a second member approves
    provider = get_provider()
    try:
        if refund.hyperswitch_refund_id is None:
            try:
                submission = submit_refund(refund=refund)
            except errors.ProviderRefused:
                refund_reconciliations.labels(outcome="failed").inc()
                return "failed"
            if not submission.accepted:
                refund_reconciliations.labels(outcome="unreachable").inc()
                return "unreachable"
            refund.refresh_from_db()
        result = provider.get_refund(refund.hyperswitch_refund_id or str(refund.pk))
    except ProviderError as exc:
        if exc.not_found:
            apply_refund_status(
                refund_id=refund.pk,
                status=Refund.Status.FAILED,
                error_message="The payment provider has no record of this refund.",
                source="reconciliation",
            )
            refund_reconciliations.labels(outcome="failed").inc()
            return "failed"
        refund_reconciliations.labels(outcome="unreachable").inc()
        return "unreachable"
    if not result.is_terminal:
        refund_reconciliations.labels(outcome="still_pending").inc()
        return "still_pending"
    apply_refund_status(
        refund_id=refund.pk,
        provider_refund_id=result.refund_id,
        status=result.status,
        error_message=result.error_message or "",
        source="reconciliation",
    )
    refund_reconciliations.labels(outcome=str(result.status)).inc()
    return str(result.status)


def reconcile_refunds() -> dict[str, int]:
    """Every stuck refund asked about again, oldest first (beat and ``manage.py``)."""
    summary: dict[str, int] = defaultdict(int)
    for refund in stuck_refunds().order_by("created_at"):
        try:
            summary[reconcile_refund(refund=refund)] += 1
        except Exception:  # noqa: BLE001 - one bad refund must not stop the others
            logger.exception("reconciliation of refund %s failed", refund.pk)
            summary["error"] += 1
    return dict(summary)
