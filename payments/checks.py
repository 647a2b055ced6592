"""Proof that sellers earn on net prices only, for ``manage.py check_ledger``.

VAT is the platform's liability (marketplace.vat): for every order, its ``sale_credit``
entries must add up, seller by seller, to the sellers' shares of the items' **net** prices.
A sale credit carrying any of the VAT, or missing, shows here.
"""

from collections import defaultdict

from django.db.models import Sum

from marketplace.models import OrderItem
from payments.ledger import seller_share
from payments.models import LedgerEntry


def sale_credit_differences() -> list[dict]:
    """Each (order, seller) whose sale credits differ from its share of the items' net
    prices; only orders that have sale credits (a paid order) are expected to have them."""
    credited: dict[tuple[str, str], int] = {
        (str(order_id), str(seller_id)): total
        for order_id, seller_id, total in LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.SALE_CREDIT, order__isnull=False
        )
        .values("order_id", "seller_id")
        .annotate(total=Sum("requested_amount"))
        .values_list("order_id", "seller_id", "total")
    }
    paid_orders = {order_id for order_id, _ in credited}
    expected: dict[tuple[str, str], int] = defaultdict(int)
    items = OrderItem.objects.filter(order_id__in=paid_orders).values_list(
        "order_id", "seller_id", "price"
    )
    for order_id, seller_id, price in items.iterator(chunk_size=2000):
        expected[(str(order_id), str(seller_id))] += seller_share(price)
    return [
        {
            "order_id": order_id,
            "seller_id": seller_id,
            "sale_credits": credited.get((order_id, seller_id), 0),
            "net_share": expected.get((order_id, seller_id), 0),
        }
        for order_id, seller_id in sorted(set(credited) | set(expected))
        if credited.get((order_id, seller_id), 0) != expected.get((order_id, seller_id), 0)
    ]
