"""Marketplace workflows: products, orders, and the payment outcome."""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import record
from marketplace import errors
from marketplace.models import License, Order, OrderItem, Product
from payments.ledger import apply_entry, lock_balances
from payments.metrics import orders_placed
from payments.models import LedgerEntry, SellerTransfer
from payments.providers import ProviderError, get_provider

logger = logging.getLogger(__name__)

PRODUCT_FIELDS = ("title", "description", "price", "currency", "product_type", "track", "is_active")


# --- products -----------------------------------------------------------------------------
def create_product(*, seller, request=None, **fields) -> Product:
    product = Product.objects.create(seller=seller, **fields)
    record(action="product.create", actor=seller, target=product, request=request)
    return product


def update_product(*, product: Product, actor, data: dict, request=None) -> Product:
    changed = [f for f in PRODUCT_FIELDS if f in data and getattr(product, f) != data[f]]
    for field in changed:
        setattr(product, field, data[field])
    if changed:
        product.save(update_fields=[*changed, "updated_at"])
        record(
            action="product.update",
            actor=actor,
            target=product,
            request=request,
            details={"fields": changed},
        )
    return product


def deactivate_product(*, product: Product, actor, request=None) -> None:
    """Products are never deleted (orders reference them): they stop being for sale."""
    if product.is_active:
        product.is_active = False
        product.save(update_fields=["is_active", "updated_at"])
    record(action="product.delete", actor=actor, target=product, request=request)


def seller_share(price: int) -> int:
    """What the seller earns on ``price``: the platform fee is rounded down."""
    return price - (price * settings.PLATFORM_FEE_PERCENT) // 100


# --- orders -------------------------------------------------------------------------------
def place_order(*, buyer, product_ids: list, request=None) -> tuple[Order, dict]:
    """Create the order, then ask the provider for a payment of its total (outside the txn)."""
    if len(set(product_ids)) != len(product_ids):
        raise errors.InvalidOrder("An order cannot list the same product twice.")
    with transaction.atomic():
        products = {str(p.pk): p for p in Product.objects.filter(pk__in=product_ids)}
        missing = [str(pid) for pid in product_ids if str(pid) not in products]
        if missing:
            raise errors.InvalidOrder(f"Unknown product: {', '.join(missing)}.")
        for product in products.values():
            if not product.is_active:
                raise errors.InvalidOrder(f"The product {product.pk} is not for sale.")
            if product.seller_id == buyer.pk:
                raise errors.InvalidOrder("You cannot buy your own product.")
        currencies = {p.currency for p in products.values()}
        if len(currencies) != 1:
            raise errors.InvalidOrder("All products of an order must share one currency.")
        currency = currencies.pop()
        order = Order.objects.create(
            buyer=buyer,
            currency=currency,
            total_amount=sum(p.price for p in products.values()),
        )
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order,
                product=p,
                seller_id=p.seller_id,
                price=p.price,
                currency=currency,
                position=position,
            )
            for position, p in enumerate(products[str(pid)] for pid in product_ids)
        )
        record(
            action="order.create",
            actor=buyer,
            target=order,
            request=request,
            details={"total_amount": order.total_amount, "currency": currency},
        )

    # The provider call is never inside a transaction: a slow provider must not hold locks.
    provider = get_provider()
    try:
        payment = provider.create_payment(
            amount=order.total_amount, currency=order.currency, order_id=str(order.pk)
        )
    except ProviderError as exc:
        Order.objects.filter(pk=order.pk, status=Order.Status.PENDING).update(
            status=Order.Status.FAILED, updated_at=timezone.now()
        )
        orders_placed.labels(outcome="psp_error").inc()
        logger.warning("payment creation failed for order %s: %s", order.pk, exc.message)
        raise errors.PaymentProviderError(f"The payment provider refused: {exc.message}") from exc

    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(
            hyperswitch_payment_id=payment.payment_id, updated_at=timezone.now()
        )
    order.hyperswitch_payment_id = payment.payment_id
    orders_placed.labels(outcome="created").inc()
    if hasattr(provider, "on_recorded"):
        provider.on_recorded(payment_id=payment.payment_id)
    return order, {"payment_id": payment.payment_id, "client_secret": payment.client_secret}


def apply_payment_status(*, payment_id: str, succeeded: bool) -> tuple[str, Order | None]:
    """The payment webhook's effect, idempotent under the order's row lock.

    Returns ``(outcome, order)`` where outcome is processed | duplicate | ignored.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(hyperswitch_payment_id=payment_id).first()
        if order is None:
            return "ignored", None
        if order.status != Order.Status.PENDING:
            return "duplicate", order  # a replay, or a late event after a terminal state
        now = timezone.now()
        if not succeeded:
            order.status = Order.Status.FAILED
            order.save(update_fields=["status", "updated_at"])
            record(action="order.payment_failed", target=order)
            return "processed", order

        order.status = Order.Status.COMPLETED
        order.completed_at = now
        order.refund_deadline = now + timedelta(days=settings.REFUND_WINDOW_DAYS)
        order.save(update_fields=["status", "completed_at", "refund_deadline", "updated_at"])
        items = list(order.items.all())
        License.objects.bulk_create(
            License(
                buyer_id=order.buyer_id, product_id=item.product_id, order=order, granted_at=now
            )
            for item in items
        )
        shares: dict[str, int] = defaultdict(int)
        for item in items:
            shares[str(item.seller_id)] += seller_share(item.price)
        balances = lock_balances(seller_ids=shares.keys(), currency=order.currency)
        for seller_id in sorted(shares):
            apply_entry(
                balance=balances[seller_id],
                kind=LedgerEntry.Kind.SALE_CREDIT,
                amount=shares[seller_id],
                order=order,
            )
        SellerTransfer.objects.bulk_create(
            SellerTransfer(seller_id=seller_id, order=order, amount=amount, currency=order.currency)
            for seller_id, amount in sorted(shares.items())
        )
        record(
            action="order.completed",
            target=order,
            details={"total_amount": order.total_amount, "currency": order.currency},
        )
        return "processed", order
