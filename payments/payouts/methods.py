"""Where a seller's payouts go, and staff's pause."""

from django.db import transaction

from audit.services import record
from payments.models import PayoutMethod


def set_payout_method(*, seller, payout_type: str, payout_token: str, request=None):
    """Where the seller's payouts go; the provider's customer id is the seller's id."""
    with transaction.atomic():
        method, created = PayoutMethod.objects.select_for_update().get_or_create(
            seller=seller, defaults={"payout_type": payout_type, "payout_token": payout_token}
        )
        if not created:
            method.payout_type, method.payout_token = payout_type, payout_token
            method.save(update_fields=["payout_type", "payout_token", "updated_at"])
        record(
            action="payout_method.set",
            actor=seller,
            target=method,
            request=request,
            details={"payout_type": payout_type, "created": created},
        )
    return method


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
