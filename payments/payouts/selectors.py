"""Reads of seller money: balances, transfers, payouts, and which of them the jobs consider."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from marketplace.models import Order
from payments.models import Payout, PayoutMethod, SellerBalance, SellerTransfer


def seller_balances(*, seller) -> list[SellerBalance]:
    return list(SellerBalance.objects.filter(seller=seller).order_by("currency"))


def _amounts(balance: SellerBalance | None, currency: str) -> dict:
    return {
        "currency": currency,
        "available": balance.available if balance else 0,
        "pending": balance.pending if balance else 0,
        "held": balance.held if balance else 0,
        "debt": balance.debt if balance else 0,
    }


def next_payout_at():
    """The next run of PAYOUT_SCHEDULE (a crontab), or None when payouts are not scheduled."""
    schedule = getattr(settings, "PAYOUT_SCHEDULE_CRONTAB", None)
    if schedule is None:
        return None
    now = timezone.now()
    # A crontab fires on whole minutes; Celery's estimate is off by the microseconds of now.
    estimate = now + schedule.remaining_estimate(now)
    return (estimate + timedelta(seconds=30)).replace(second=0, microsecond=0)


def balance_summary(*, seller, currency: str) -> dict:
    """The seller's four amounts in ``currency`` (zeros when it has none), and every currency."""
    balances = seller_balances(seller=seller)
    current = next((b for b in balances if b.currency == currency), None)
    return {
        **_amounts(current, currency),
        "next_payout_at": next_payout_at(),
        "balances": [_amounts(b, b.currency) for b in balances],
    }


def transfers_of(*, seller):
    return SellerTransfer.objects.filter(seller=seller)


def payouts_visible_to(*, user):
    """The caller's payouts; an admin sees every seller's."""
    payouts = Payout.objects.order_by("-created_at")
    return payouts if user.is_admin else payouts.filter(seller=user)


def releasable_order_ids(*, now=None):
    """Orders with a pending transfer whose refund window has passed."""
    now = now or timezone.now()
    return (
        SellerTransfer.objects.filter(
            status=SellerTransfer.Status.PENDING,
            order__refund_deadline__lt=now,
            order__status__in=list(RELEASABLE),
        )
        .values_list("order_id", flat=True)
        .distinct()
    )


def eligible_balances():
    """(seller_id, currency) pairs that the payout run should consider."""
    return (
        SellerBalance.objects.filter(
            available__gte=max(settings.PAYOUT_MINIMUM, 1),
            seller__payout_method__payouts_paused=False,
            seller__payout_method__status=PayoutMethod.Status.ACTIVE,
        )
        .order_by("seller_id", "currency")
        .values_list("seller_id", "currency")
    )


def stuck_payouts():
    """Pending for longer than PAYOUT_RECONCILE_AFTER: reconciliation asks about them again,
    and the payout console lists them for Finance (with the provider's own word for each —
    ``requires_payout_method_data`` waits for the seller's new method)."""
    cutoff = timezone.now() - timedelta(seconds=settings.PAYOUT_RECONCILE_AFTER)
    return Payout.objects.filter(status=Payout.Status.PENDING, created_at__lte=cutoff)


# Orders whose money may leave the window: paid, nothing pending, nothing disputed.
RELEASABLE = frozenset(
    {Order.Status.COMPLETED, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDED}
)
