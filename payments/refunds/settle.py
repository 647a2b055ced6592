"""Phase 3 of a refund: its terminal state, the only way a refund ends — used by the webhook,
by reconciliation and by definite provider refusals — under row locks taken in one order
(refund, order, then seller balances by primary key), idempotent, with the ledger moved in
the same transaction."""

import logging
import uuid

from django.db import models, transaction
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
    prefetch_related_objects,
)
from django.utils import timezone

from audit.services import record
from invoicing.services import issue, prepare_credit_note
from marketplace import services as orders
from marketplace.models import Order, OrderItem
from payments import ledger
from payments.last_writes import defer, last_writes
from payments.ledger import shares_by_seller
from payments.metrics import refund_transitions
from payments.models import EventOutcome, LedgerEntry, Refund, RefundItem, SellerTransfer
from veza.events import emit
from veza.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)


NOTIFY_TASK = "payments.tasks.send_refund_notification"


def _lock_refund(*, refund_id=None, provider_refund_id: str | None = None) -> Refund | None:
    """The refund and its order, locked by one statement: PostgreSQL takes the row locks in
    the order of the query's tables, the refund's first, then its order's."""
    candidates = Refund.objects.select_related("order").select_for_update(of=("self", "order"))
    if provider_refund_id:
        refund = candidates.filter(provider_refund_id=provider_refund_id).first()
        if refund is not None:
            return refund
    for ident in (refund_id, provider_refund_id):
        try:
            pk = uuid.UUID(str(ident)) if ident else None
        except ValueError:
            pk = None
        if pk is not None:
            refund = candidates.filter(pk=pk).first()
            if refund is not None:
                return refund
    return None


def apply_refund_status(
    *,
    status: Refund.Status,
    refund_id=None,
    provider_refund_id: str | None = None,
    error_message: str = "",
    source: str = "webhook",
) -> tuple[EventOutcome, Refund | None]:
    """Apply a provider status to a refund: the webhook's, reconciliation's and refusals' path.

    ``status`` is ours (the providers translate theirs). Locks the refund, then its order,
    then the sellers' balances by primary key, all in one transaction; idempotent.
    """
    # No savepoint of its own inside a caller's transaction (the webhook's): a failure here
    # aborts that whole transaction anyway, and nothing is caught in between. The seller
    # balances and the credit note's number are written last (``last_writes``): at the end
    # of this block, or of the caller's (the webhook's, after its claim).
    with transaction.atomic(savepoint=False), last_writes():
        refund = _lock_refund(refund_id=refund_id, provider_refund_id=provider_refund_id)
        if refund is None:
            return EventOutcome.IGNORED, None
        if refund.is_terminal:
            return EventOutcome.DUPLICATE, refund  # a terminal row is never changed again
        if refund.status == Refund.Status.AWAITING_APPROVAL:
            return EventOutcome.IGNORED, refund  # never sent: no provider status can apply
        if status not in Refund.TERMINAL:
            return EventOutcome.IGNORED, refund  # pending, processing, review: nothing to do
        order = refund.order
        now = timezone.now()
        if provider_refund_id and refund.provider_refund_id is None:
            refund.provider_refund_id = provider_refund_id
        if status == Refund.Status.SUCCEEDED:
            _finalise_success(refund=refund, order=order, now=now)
        else:
            refund.status = Refund.Status.FAILED
            refund.failed_at = now
            refund.error_message = (error_message or "The payment provider refused the refund.")[
                :2000
            ]
            refund.save(update_fields=TERMINAL_FIELDS)
            refund.refund_items.update(active=False)  # the items may be refunded again
            orders.restore_order(order=order)
        record(
            action=f"refund.{refund.status}",
            target=refund,
            details={"source": source, "order_id": str(order.pk), "error": refund.error_message},
        )
        notify(refund, str(refund.status))
        emit(f"refund.{refund.status}", refund)
        transaction.on_commit(lambda: refund_transitions.labels(status=str(refund.status)).inc())
    return EventOutcome.PROCESSED, refund


TERMINAL_FIELDS = [
    "status",
    "succeeded_at",
    "failed_at",
    "error_message",
    "provider_refund_id",
    "updated_at",
]


def _finalise_success(*, refund: Refund, order: Order, now) -> None:
    """Items refunded, their licences revoked, each seller debited its share of them."""
    refund.status = Refund.Status.SUCCEEDED
    refund.succeeded_at = now
    refund.error_message = ""
    refund.save(update_fields=TERMINAL_FIELDS)
    # Every item of the order in one read, under the order's lock, each flagged when this
    # refund covers it; kept on the order, where the outgoing webhook finds its parties.
    prefetch_related_objects(
        [order],
        Prefetch(
            "items",
            queryset=OrderItem.objects.annotate(
                in_refund=Exists(
                    RefundItem.objects.filter(refund=refund, order_item=OuterRef("pk"))
                )
            ),
        ),
    )
    order_items = list(order.items.all())
    items = [item for item in order_items if item.in_refund]
    orders.refund_items(
        order=order, items=items, amount=refund.amount, now=now, order_items=order_items
    )

    # Everything that needs no hot lock is read and computed now: the shares, the credit
    # note's lines and totals. The sellers' balances (locked in primary-key order, pending
    # first, then available, what is missing becoming the seller's debt), the transfers and
    # the credit note's number are the last writes of the transaction.
    shares = shares_by_seller(items)
    credit_note = prepare_credit_note(
        order=order, items=items, reason=refund.reason, refund_id=refund.pk
    )

    def move_the_money() -> None:
        balances = ledger.lock_balances(seller_ids=shares.keys(), currency=order.currency)
        ledger.debit_sellers(
            balances=balances,
            kind=LedgerEntry.Kind.REFUND_DEBIT,
            amounts=shares,
            order=order,
            refund=refund,
        )
        reduce_transfers(order=order, shares=shares, now=now)
        issue(credit_note)

    defer(move_the_money)


def reduce_transfers(*, order: Order, shares: dict[str, int], now) -> None:
    """Each seller's transfer of the order keeps what still stands; reversed at zero.

    One UPDATE, each row locked by it and computed from its current amount (a ``CASE`` per
    seller; portable SQL, no ``GREATEST``). The other writers of these rows either hold the
    order's lock too (release, disputes) or lock one seller's transfers (a payout), which
    share at most one row with one order's: no lock cycle.
    """
    if not shares:
        return
    covers = {
        seller_id: Q(seller_id=seller_id, amount__gt=share) for seller_id, share in shares.items()
    }
    SellerTransfer.objects.filter(order=order, seller_id__in=list(shares)).update(
        amount=Case(
            *(When(covers[s], then=F("amount") - share) for s, share in shares.items()),
            default=Value(0),
            output_field=models.BigIntegerField(),
        ),
        status=Case(
            *(When(covers[s], then=F("status")) for s in shares),
            default=Value(SellerTransfer.Status.REVERSED),
            output_field=models.CharField(),
        ),
        updated_at=now,
    )


def notify(refund: Refund, event: str) -> None:
    # By name: the task module imports this one.
    enqueue_on_commit(NOTIFY_TASK, refund_id=str(refund.pk), event=event)
