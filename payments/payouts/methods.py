"""Where a seller's payouts go, staff's pause, and the provider's refusal of a method.

A widget's ``payout_token`` is short-lived; the provider saves the method and names it
(``payout_method_id``) in a payout answer, and later payouts send that id. When the provider
says the method cannot be used — a 422 on create (a lapsed token), or a payout ``ineligible``
or ``requires_payout_method_data`` — the method is ``needs_update``: the seller is emailed
once and no payout is attempted until it PUTs a new method.
"""

from django.db import transaction
from django.utils import timezone

from audit.services import record
from payments.models import PayoutMethod
from veza.tasks import enqueue_on_commit

NOTIFY_TASK = "payments.tasks.send_payout_method_notification"


def set_payout_method(*, seller, payout_type: str, payout_token: str, request=None):
    """Where the seller's payouts go (a new widget token: a new method, active again); the
    provider's customer id is the seller's id."""
    with transaction.atomic():
        method, created = PayoutMethod.objects.select_for_update().get_or_create(
            seller=seller, defaults={"payout_type": payout_type, "payout_token": payout_token}
        )
        was = method.status
        if not created:
            method.payout_type, method.payout_token = payout_type, payout_token
            method.payout_method_id = ""  # the provider saves the new one on its next payout
            method.status = PayoutMethod.Status.ACTIVE
            method.needs_update_reason, method.needs_update_since = "", None
            method.save()
        record(
            action="payout_method.set",
            actor=seller,
            target=method,
            request=request,
            details={"payout_type": payout_type, "created": created, "was": was},
        )
    return method


def method_of(*, seller) -> PayoutMethod | None:
    return PayoutMethod.objects.filter(seller=seller).first()


def remember_saved_method(*, seller_id, payout_token: str, payout_method_id: str) -> None:
    """The provider saved the method of ``payout_token``: send its id from now on (unless the
    seller changed its method meanwhile)."""
    PayoutMethod.objects.filter(seller_id=seller_id, payout_token=payout_token).exclude(
        payout_method_id=payout_method_id
    ).update(payout_method_id=payout_method_id, updated_at=timezone.now())


def mark_needs_update(*, seller_id, payout_token: str, reason: str) -> bool:
    """The provider refused the method of ``payout_token``: ``needs_update``, the seller
    emailed once (on the change only). False when it was already so, or was replaced."""
    with transaction.atomic():
        method = (
            PayoutMethod.objects.select_for_update()
            .filter(seller_id=seller_id, payout_token=payout_token)
            .first()
        )
        if method is None or method.status == PayoutMethod.Status.NEEDS_UPDATE:
            return False
        method.status = PayoutMethod.Status.NEEDS_UPDATE
        method.needs_update_reason = reason[:2000]
        method.needs_update_since = timezone.now()
        method.save(
            update_fields=["status", "needs_update_reason", "needs_update_since", "updated_at"]
        )
        record(
            action="payout_method.needs_update",
            target=method,
            details={"seller_id": str(seller_id), "reason": method.needs_update_reason},
        )
        enqueue_on_commit(NOTIFY_TASK, seller_id=str(seller_id))
    return True


def set_payouts_paused(*, seller, paused: bool, actor=None, request=None) -> PayoutMethod | None:
    """Staff pause or resume a seller's payouts (audited). None when it has no method."""
    with transaction.atomic():
        method = PayoutMethod.objects.select_for_update().filter(seller=seller).first()
        if method is None:
            return None
        method.payouts_paused = paused
        method.save(update_fields=["payouts_paused", "updated_at"])
        record(
            action="payouts.paused" if paused else "payouts.resumed",
            actor=actor,
            target=method,
            request=request,
            details={"seller_id": str(seller.pk)},
        )
    return method
