"""Orders with VAT set as the VAT computation at order creation leaves them (that work is not
invoicing's): per item a rate and its VAT, the order's sums consistent with them."""

from decimal import ROUND_HALF_UP, Decimal

from marketplace.models import Order
from tests.hyperswitch.webhook_bodies import payment_body
from tests.marketplace.factories import OrderFactory, ProductFactory


def vat_of(price: int, rate: Decimal) -> int:
    return int((Decimal(price) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_order(
    *,
    prices=(1000,),
    rate="20",
    country: str | None = "FR",
    vat_number: str = "",
    reverse_charge: bool = False,
    products=None,
    **kwargs,
) -> Order:
    """A pending order of one product per price, taxed at ``rate`` % in ``country``
    (``reverse_charge``: rate 0, no VAT, the buyer's ``vat_number``)."""
    rate = Decimal("0") if reverse_charge else Decimal(rate)
    products = products or [ProductFactory(price=price) for price in prices]
    order = OrderFactory(products=products, **kwargs)
    items = list(order.items.order_by("position"))
    for item in items:
        item.vat_rate = rate
        item.vat_amount = vat_of(item.price, rate)
        item.save(update_fields=["vat_rate", "vat_amount"])
    order.net_amount = sum(item.price for item in items)
    order.vat_amount = sum(item.vat_amount for item in items)
    order.total_amount = order.net_amount + order.vat_amount
    order.billing_country = country or ""
    order.tax_country = country
    order.vat_number = vat_number
    order.reverse_charge = reverse_charge
    order.save()
    return order


def pay(post_webhook, order: Order, event_id: str | None = None):
    """The provider's payment_succeeded webhook for ``order``, signed, through the API."""
    response = post_webhook(
        payment_body(
            "payment_succeeded",
            payment_id=order.hyperswitch_payment_id,
            amount=order.total_amount,
            event_id=event_id,
        )
    )
    assert response.status_code == 200, response.content
    order.refresh_from_db()
    return response
