"""Four eyes: a staff refund above REFUND_APPROVAL_THRESHOLD, or any window override, waits
until a second Finance member approves it (→ the provider, phase 2) or rejects it."""

import logging
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from audit.services import record
from marketplace import services as orders
from payments import errors
from payments.metrics import refund_transitions
from payments.models import Refund
from payments.refunds.services import Submission, submit_refund

logger = logging.getLogger(__name__)


def _decide(*, refund_id, user) -> Refund:
    """Lock a refund awaiting approval and check that ``user`` is not its requester.

    The callers audit a refusal after the transaction, so it survives the rollback.
    """
    if not user.has_perm("payments.approve_refund"):
        raise errors.RefundForbidden(
            "Deciding on a refund needs the payments.approve_refund permission."
        )
    refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
    if refund is None:
        raise errors.RefundNotFound()
    if refund.status != Refund.Status.AWAITING_APPROVAL:
        raise errors.RefundNotAwaitingApproval(
            f"This refund is {refund.get_status_display().lower()}, not awaiting approval."
        )
    if refund.requested_by_id is not None and refund.requested_by_id == user.pk:
        raise errors.OwnRefundApproval()
    return refund


@contextmanager
def _refusal_recorded(*, refund_id, user, decision: str, request):
    """A refused decision (one's own refund, not awaiting approval) is audited, outside the
    transaction it rolled back, and raised on."""
    try:
        yield
    except (
        errors.OwnRefundApproval,
        errors.RefundNotAwaitingApproval,
        errors.RefundNotFound,
        errors.RefundForbidden,
    ) as exc:
        record(
            action="refund.decision_refused",
            actor=user,
            target_type="payments.refund",
            target_id=str(refund_id),
            request=request,
            details={"decision": decision, "reason": str(exc.detail)},
        )
        raise


def approve_refund(*, refund_id, approved_by, request=None) -> Submission:
    """The second pair of eyes says yes: the refund goes on to the provider (phase 2)."""
    refusal = _refusal_recorded(
        refund_id=refund_id, user=approved_by, decision="approve", request=request
    )
    with refusal, transaction.atomic():
        refund = _decide(refund_id=refund_id, user=approved_by)
        refund.status = Refund.Status.PENDING
        refund.save(update_fields=["status", "updated_at"])
        record(
            action="refund.approved",
            actor=approved_by,
            target=refund,
            request=request,
            details={
                "amount": refund.amount,
                "currency": refund.currency,
                "requested_by": str(refund.requested_by_id or ""),
            },
        )
    refund_transitions.labels(status="pending").inc()
    # Outside the transaction: the provider call must never hold the refund's lock.
    return submit_refund(refund=Refund.objects.select_related("order").get(pk=refund.pk))


def reject_refund(*, refund_id, rejected_by, reason: str, request=None) -> Refund:
    """The second pair of eyes says no: the order goes back exactly as after a failed refund."""
    refusal = _refusal_recorded(
        refund_id=refund_id, user=rejected_by, decision="reject", request=request
    )
    with refusal, transaction.atomic():
        refund = _decide(refund_id=refund_id, user=rejected_by)
        order = orders.lock_order(order_id=refund.order_id)
        refund.status = Refund.Status.REJECTED
        refund.error_message = f"Rejected: {reason}"[:2000]
        # Ended without money moving, as a failed refund: the API's ``failed_at`` says when.
        refund.failed_at = timezone.now()
        refund.save(update_fields=["status", "error_message", "failed_at", "updated_at"])
        refund.refund_items.update(active=False)  # the items may be refunded again
        orders.restore_order(order=order)
        record(
            action="refund.rejected",
            actor=rejected_by,
            target=refund,
            request=request,
            details={
                "amount": refund.amount,
                "currency": refund.currency,
                "reason": reason,
                "requested_by": str(refund.requested_by_id or ""),
            },
        )
    refund_transitions.labels(status="rejected").inc()
    return refund
