"""Release: once an order's refund window has passed and nothing is pending or disputed on
it, each seller's standing share moves ``pending → available``, under the order's row lock
then the balances' (the refunds' lock order), once per order and seller (a partial UNIQUE
index on the ledger refuses a second ``release`` entry)."""

import logging
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace import services as orders
from payments import ledger
from payments.models import LedgerEntry, SellerTransfer
from payments.payouts.selectors import RELEASABLE, releasable_order_ids

logger = logging.getLogger(__name__)


def release_order(*, order_id, now=None) -> int:
    """Move each seller's standing share of the order from pending to available.

    Returns how many transfers it released. Safe to run on two workers at once: the order's
    row lock serialises them, and the ledger's UNIQUE (seller, order, release) refuses a
    second entry whatever happens.
    """
    now = now or timezone.now()
    with transaction.atomic():
        order = orders.lock_order(order_id=order_id)
        if order is None or order.status not in RELEASABLE:
            return 0
        if order.refund_deadline is None or order.refund_deadline >= now:
            return 0
        seller_ids = list(
            SellerTransfer.objects.filter(
                order=order, status=SellerTransfer.Status.PENDING
            ).values_list("seller_id", flat=True)
        )
        if not seller_ids:
            return 0
        balances = ledger.lock_balances(seller_ids=seller_ids, currency=order.currency)
        transfers = (
            SellerTransfer.objects.select_for_update()
            .filter(order=order, status=SellerTransfer.Status.PENDING)
            .order_by("pk")
        )
        released = 0
        for transfer in transfers:
            balance = balances[str(transfer.seller_id)]
            # What a refund or a debt already took is not in pending any more.
            amount = min(transfer.amount, balance.pending)
            try:
                with transaction.atomic():
                    ledger.record(
                        balance=balance,
                        kind=LedgerEntry.Kind.RELEASE,
                        requested=transfer.amount,
                        pending=-amount,
                        available=amount,
                        order=order,
                    )
            except IntegrityError:
                balance.refresh_from_db()  # released already: the savepoint undid our change
            transfer.status = SellerTransfer.Status.RELEASED
            transfer.released_at = now
            transfer.save(update_fields=["status", "released_at", "updated_at"])
            released += 1
    return released


def release_due(*, now=None) -> dict[str, int]:
    """Beat: release every order whose refund window has passed."""
    summary: dict[str, int] = defaultdict(int)
    for order_id in list(releasable_order_ids(now=now)):
        try:
            summary["transfers"] += release_order(order_id=order_id, now=now)
            summary["orders"] += 1
        except Exception:  # noqa: BLE001 - one bad order must not stop the others
            logger.exception("release of order %s failed", order_id)
            summary["error"] += 1
    return dict(summary)
