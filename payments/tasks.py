"""Thin Celery wrappers around the payments services."""

import json
import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import Group

from accounts.tasks import send_templated_email
from audit.services import record
from payments.disputes import evidence
from payments.intake.receiver import receive
from payments.intake.webhooks import sign
from payments.models import Dispute, Payout, PayoutMethod, Refund
from payments.payouts import reconcile as payout_reconciliation
from payments.payouts import services as payouts
from payments.payouts.release import release_due
from payments.refunds import reconcile as refund_reconciliation
from payments.refunds.sync import sync_chunk
from veza.money import format_money

logger = logging.getLogger(__name__)

# Emails retry on a mail server that is down (OSError), backing off up to ten minutes.
EMAIL_RETRIES = {
    "autoretry_for": (OSError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


@shared_task
def reconcile_refunds() -> dict:
    """Beat: settle refunds still pending after REFUND_RECONCILE_AFTER."""
    summary = refund_reconciliation.reconcile_refunds()
    if summary:
        logger.info("refund reconciliation: %s", summary)
    return summary


@shared_task
def sync_refund_chunk(*, batch_id: str, refund_ids: list[str], chunk: int | None = None) -> dict:
    """One chunk of the admin's bulk "sync with provider", on the worker."""
    return sync_chunk(batch_id=batch_id, refund_ids=refund_ids, chunk=chunk)


@shared_task
def release_seller_money() -> dict:
    """Beat: pending → available for every order whose refund window has passed."""
    summary = release_due()
    if summary:
        logger.info("release: %s", summary)
    return summary


@shared_task
def run_payouts() -> dict:
    """Beat on PAYOUT_SCHEDULE (and the admin's "run payouts now"): pay eligible sellers."""
    released = release_due()
    summary = payouts.run_payouts()
    logger.info("payout run: released %s, paid %s", released, summary)
    record(action="payouts.run", details={"released": released, "payouts": summary})
    return summary


@shared_task
def reconcile_payouts() -> dict:
    """Beat: re-read (or re-submit) payouts still pending after PAYOUT_RECONCILE_AFTER."""
    summary = payout_reconciliation.reconcile_payouts()
    if summary:
        logger.info("payout reconciliation: %s", summary)
    return summary


@shared_task(bind=True, **EMAIL_RETRIES)
def send_payout_notification(self, *, payout_id: str, event: str) -> None:
    """Email the seller that a payout was sent, paid, failed or reversed."""
    payout = Payout.objects.select_related("seller").filter(pk=payout_id).first()
    if payout is None or not payout.seller.email:
        return
    send_templated_email.run(
        template=f"payout_{event}",
        to=[payout.seller.email],
        context={
            "username": payout.seller.username,
            "payout_id": str(payout.pk),
            "amount": format_money(payout.amount, payout.currency),
            "currency": payout.currency,
            "failure_reason": payout.failure_reason,
            "url": f"{settings.FRONTEND_URL}/seller/payouts/{payout.pk}",
        },
    )


@shared_task(bind=True, **EMAIL_RETRIES)
def send_payout_method_notification(self, *, seller_id: str) -> None:
    """Email the seller, once per lapse, that its payout method must be given again."""
    method = PayoutMethod.objects.select_related("seller").filter(seller_id=seller_id).first()
    if method is None or method.status != PayoutMethod.Status.NEEDS_UPDATE:
        return  # updated meanwhile: nothing to ask
    if not method.seller.email:
        return
    send_templated_email.run(
        template="payout_method_needs_update",
        to=[method.seller.email],
        context={
            "username": method.seller.username,
            "payout_type": method.get_payout_type_display().lower(),
            "reason": method.needs_update_reason,
            "url": f"{settings.FRONTEND_URL}/seller/payout-method",
        },
    )


@shared_task(bind=True, **EMAIL_RETRIES)
def send_refund_notification(self, *, refund_id: str, event: str) -> None:
    """Email the buyer and the sellers that a refund was opened, succeeded or failed."""
    refund = Refund.objects.select_related("order__buyer").filter(pk=refund_id).first()
    if refund is None:
        return
    order = refund.order
    sellers = {item.seller for item in order.items.select_related("seller")}
    context = {
        "refund_id": str(refund.pk),
        "order_id": str(order.pk),
        "amount": format_money(refund.amount, refund.currency),
        "currency": refund.currency,
        "event": event,
        "error_message": refund.error_message,
        "url": f"{settings.FRONTEND_URL}/orders/{order.pk}",
    }
    recipients = [("buyer", order.buyer)] + [("seller", seller) for seller in sellers]
    for role, user in recipients:
        send_templated_email.run(
            template=f"refund_{event}",
            to=[user.email],
            context={**context, "username": user.username, "role": role},
        )


@shared_task
def deliver_sandbox_webhook(*, envelope: dict) -> dict:
    """The sandbox provider's notification: signed, then through the real inbound path."""
    raw = json.dumps(envelope).encode()
    receipt = receive(raw_body=raw, signature=sign(raw), source="sandbox")
    return receipt.body


@shared_task(bind=True, **EMAIL_RETRIES)
def send_dispute_notification(self, *, dispute_id: str, event: str) -> None:
    """Email the order's sellers and the Finance group that a dispute opened or closed."""
    dispute = Dispute.objects.select_related("order").filter(pk=dispute_id).first()
    if dispute is None:
        return
    order = dispute.order
    sellers = {item.seller for item in order.items.select_related("seller")}
    finance = Group.objects.filter(name="Finance").first()
    staff = list(finance.user_set.filter(is_active=True)) if finance else []
    context = {
        "dispute_id": str(dispute.pk),
        "order_id": str(order.pk),
        "amount": format_money(dispute.amount, dispute.currency),
        "status": dispute.status,
        "reason": dispute.reason,
        "evidence_due_at": dispute.evidence_due_at,
        "fee": settings.DISPUTE_FEE,
    }
    recipients = [("seller", u, f"{settings.FRONTEND_URL}/orders/{order.pk}") for u in sellers]
    recipients += [("finance", u, f"/admin/payments/dispute/{dispute.pk}/change/") for u in staff]
    for role, user, url in recipients:
        send_templated_email.run(
            template=f"dispute_{event}",
            to=[user.email],
            context={**context, "username": user.username, "role": role, "url": url},
        )


EVIDENCE_RETRIES = 8  # backing off from 30 s to ~30 min: well within an evidence deadline


@shared_task(bind=True, max_retries=EVIDENCE_RETRIES)
def submit_dispute_evidence(self, *, dispute_id: str) -> str:
    """Build, upload and submit a dispute's evidence; at most once (see disputes/evidence.py).
    An unknown outcome is retried with backoff; the last retry gives up (``failed``)."""
    final = self.request.retries >= self.max_retries
    outcome = evidence.submit_evidence(dispute_id=dispute_id, final_attempt=final)
    if outcome == evidence.EvidenceOutcome.RETRY:
        raise self.retry(countdown=min(30 * 2**self.request.retries, 1800))
    return outcome.value


@shared_task
def sweep_dispute_evidence() -> int:
    """Beat: queue again the evidence a lost task left pending."""
    return evidence.sweep_evidence()
