"""Arrangements shared by the seller-money tests."""

from datetime import timedelta

from django.utils import timezone

from marketplace.models import Order
from payments.models import PayoutMethod
from payments.payouts.release import release_order
from tests.marketplace.factories import ProductFactory, completed_order


def sold(seller=None, price: int = 1000) -> Order:
    """A completed order of one product of ``seller`` (a new creator by default)."""
    product = ProductFactory(price=price, **({"seller": seller} if seller else {}))
    return completed_order(products=[product])


def past_window(order: Order) -> Order:
    Order.objects.filter(pk=order.pk).update(refund_deadline=timezone.now() - timedelta(hours=1))
    order.refresh_from_db()
    return order


def released(seller=None, price: int = 2000) -> Order:
    """A sale whose refund window has passed and whose money was released."""
    order = past_window(sold(seller, price))
    release_order(order_id=order.pk)
    return order


def with_method(seller, token: str = "tok_bank_1", payout_type: str = "bank") -> PayoutMethod:
    return PayoutMethod.objects.create(seller=seller, payout_type=payout_type, payout_token=token)
