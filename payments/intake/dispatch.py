"""A stored notification's kind → the workflow that applies it, and what to log."""

from payments.checkout import apply_payment_status
from payments.disputes import services as disputes
from payments.intake.webhooks import Notification
from payments.models import EventOutcome, WebhookEvent
from payments.payouts.services import apply_payout_event
from payments.providers import payout_event_status
from payments.refunds.settle import apply_refund_status


def dispatch(note: Notification, kind: str, event: WebhookEvent) -> tuple[str, str]:
    if kind == WebhookEvent.Kind.DISPUTE:
        outcome, dispute, detail = disputes.apply_dispute_event(
            disputes.event_from(event_type=note.event_type, obj=note.object)
        )
        event.order_id = dispute.order_id if dispute else None
        return outcome, detail
    if kind == WebhookEvent.Kind.PAYOUT:
        outcome, payout = apply_payout_event(
            payout_id=note.payout_id,
            status=payout_event_status(note.event_type, note.status),
            error_message=note.error_message,
            provider_status=note.status,
        )
        return outcome, f"payout {note.payout_id or '?'} → {payout.status if payout else '?'}"
    if kind == WebhookEvent.Kind.REFUND:
        outcome, refund = apply_refund_status(
            provider_refund_id=note.refund_id or None,
            refund_id=note.metadata_refund_id or None,
            status=note.refund_status,
            error_message=note.error_message,
        )
        event.refund = refund
        event.order_id = refund.order_id if refund else None
        detail = {
            EventOutcome.PROCESSED: f"refund → {refund.status}" if refund else "",
            EventOutcome.DUPLICATE: "refund already terminal",
            EventOutcome.IGNORED: "unknown refund"
            if refund is None
            else f"status {note.status or note.event_type!r}",
        }[outcome]
        return outcome, detail
    succeeded = note.payment_succeeded
    if succeeded is None:
        return EventOutcome.IGNORED, f"payment status {note.status or note.event_type!r}"
    outcome, order = apply_payment_status(payment_id=note.payment_id, succeeded=succeeded)
    event.order = order
    detail = {
        EventOutcome.PROCESSED: f"order → {order.status}" if order else "",
        EventOutcome.DUPLICATE: "order already settled",
        EventOutcome.IGNORED: "unknown payment",
    }[outcome]
    return outcome, detail
