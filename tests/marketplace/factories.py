import factory
from factory.django import DjangoModelFactory

from marketplace.models import Order, OrderItem, Product
from tests.factories import CreatorFactory, UserFactory


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    seller = factory.SubFactory(CreatorFactory)
    title = factory.Sequence(lambda n: f"Beat pack {n}")
    description = "Loops and one-shots"
    price = 1000
    currency = "EUR"
    product_type = Product.Type.PACK


class OrderFactory(DjangoModelFactory):
    """A pending order with one item per product given (``products=[...]``)."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    buyer = factory.SubFactory(UserFactory)
    currency = "EUR"
    total_amount = 0
    hyperswitch_payment_id = factory.Sequence(lambda n: f"pay_factory_{n:06d}")

    @factory.post_generation
    def products(order, create, extracted, **kwargs):  # noqa: N805
        products = extracted if extracted is not None else [ProductFactory()]
        for position, product in enumerate(products):
            OrderItem.objects.create(
                order=order,
                position=position,
                product=product,
                seller_id=product.seller_id,
                price=product.price,
                currency=product.currency,
            )
        order.net_amount = order.total_amount = sum(p.price for p in products)
        order.save(update_fields=["net_amount", "total_amount"])


def completed_order(**kwargs) -> Order:
    """An order paid through the real payment-success path (licences, credits, transfers)."""
    from payments.checkout import apply_payment_status

    order = OrderFactory(**kwargs)
    outcome, _ = apply_payment_status(payment_id=order.hyperswitch_payment_id, succeeded=True)
    assert outcome == "processed"
    order.refresh_from_db()
    return order


def opened_refund(order: Order, **fields):
    """A pending refund of every item of ``order`` as phase 1 leaves it (order flipped to
    ``refund_pending``), without going through the API: a crash before the provider call."""
    from payments.models import Refund, RefundItem

    items = list(order.items.all())
    refund = Refund.objects.create(
        order=order,
        amount=sum(item.gross for item in items),
        currency=order.currency,
        **fields,
    )
    RefundItem.objects.bulk_create(
        RefundItem(refund=refund, order_item=item, amount=item.gross) for item in items
    )
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.REFUND_PENDING, status_before=order.status
    )
    return refund
