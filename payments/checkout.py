"""Paying for an order: the provider payment, and the sale's money when it succeeds.

Marketplace owns the order and its licences; this module owns what the provider says and
every movement of money, and drives the order through marketplace's transitions.
"""

import logging

from django.db import transaction
from django.utils import timezone

from invoicing.services import prepare_invoice
from marketplace import services as orders
from marketplace.models import Order
from payments import ledger
from payments.errors import ProviderRefused
from payments.last_writes import defer, last_writes
from payments.metrics import orders_placed
from payments.models import EventOutcome, LedgerEntry, SellerTransfer
from payments.providers import ProviderError, get_provider
from veza.events import emit

logger = logging.getLogger(__name__)


def place_order(
    *,
    buyer,
    product_ids: list,
    billing_country: str = "",
    vat_number: str = "",
    request=None,
) -> tuple[Order, dict]:
    """Create the order, then ask the provider for a payment of its total, VAT included
    (outside the transaction)."""
    order = orders.create_order(
        buyer=buyer,
        product_ids=product_ids,
        billing_country=billing_country,
        vat_number=vat_number,
        request=request,
    )

    # The provider call is never inside a transaction: a slow provider must not hold locks.
    provider = get_provider()
    try:
        payment = provider.create_payment(
            amount=order.total_amount, currency=order.currency, order_id=str(order.pk)
        )
    except ProviderError as exc:
        orders.abandon_order(order=order)
        orders_placed.labels(outcome="psp_error").inc()
        logger.warning("payment creation failed for order %s: %s", order.pk, exc.message)
        raise ProviderRefused(f"The payment provider refused: {exc.message}") from exc

    orders.attach_payment(order=order, payment_id=payment.payment_id)
    orders_placed.labels(outcome="created").inc()
    provider.on_recorded(payment_id=payment.payment_id)
    return order, {"payment_id": payment.payment_id, "client_secret": payment.client_secret}


def apply_payment_status(*, payment_id: str, succeeded: bool) -> tuple[EventOutcome, Order | None]:
    """The payment webhook's effect, idempotent under the order's row lock.

    No savepoint of its own inside the webhook's transaction (a failure aborts it whole). The
    sellers' balances and the invoice's number are its last writes (``payments.last_writes``):
    everything else — the order, its licences, the invoice's lines, the event — is written
    before those hot locks are taken, in their fixed order (balances, then the series).
    """
    with transaction.atomic(savepoint=False), last_writes():
        order = orders.lock_order(payment_id=payment_id)
        if order is None:
            return EventOutcome.IGNORED, None
        if order.status != Order.Status.PENDING:
            return EventOutcome.DUPLICATE, order  # a replay, or late after a terminal state
        if not succeeded:
            orders.fail_payment(order=order)
            return EventOutcome.PROCESSED, order
        items = orders.complete_order(order=order, now=timezone.now())
        # A pending order has no invoice (it is issued here, under the order's lock).
        invoice = prepare_invoice(order=order, items=items)

        def move_the_money() -> None:
            credit_sale(order=order, items=items)
            invoice.issue()

        defer(move_the_money)
        emit("order.completed", order)
        return EventOutcome.PROCESSED, order


def credit_sale(*, order: Order, items) -> None:
    """Each seller's share of the sale into its ``pending`` money (debts repaid first), and
    one transfer per seller of the order."""
    shares = ledger.shares_by_seller(items)
    balances = ledger.lock_balances(seller_ids=shares.keys(), currency=order.currency)
    for seller_id in sorted(shares):
        ledger.credit(
            balance=balances[seller_id],
            kind=LedgerEntry.Kind.SALE_CREDIT,
            amount=shares[seller_id],
            order=order,
        )
    SellerTransfer.objects.bulk_create(
        SellerTransfer(seller_id=seller_id, order=order, amount=amount, currency=order.currency)
        for seller_id, amount in sorted(shares.items())
    )
