"""Demo products for the demo creators, and paid orders for the demo buyers.

Orders go through ``place_order`` and the configured provider: without HYPERSWITCH_BASE_URL
the sandbox settles each payment by sending its signed webhook through the real inbound
path, so the demo orders are completed by the same code as in production. Idempotent.
"""

from accounts.models import CREATOR_ROLES, User
from marketplace.models import Order, OrderItem, Product
from marketplace.services import create_product, place_order

CATALOGUE = [
    ("Sample pack", Product.Type.SAMPLE, 1499),
    ("Stems and licence", Product.Type.LICENSE, 4999),
]
BUYERS = ["demo_user", "demo_premium"]


def _creators():
    return User.objects.filter(username__startswith="demo_", role__in=CREATOR_ROLES).exclude(
        username__startswith="demo_buyer_"
    )


def seed_products(scale: int = 1) -> None:
    for creator in _creators().order_by("username"):
        track = creator.tracks.order_by("created_at").first()
        for title, product_type, price in CATALOGUE:
            full_title = f"{creator.display_name or creator.username} — {title}"
            if Product.objects.filter(seller=creator, title=full_title).exists():
                continue
            create_product(
                seller=creator,
                title=full_title,
                description=f"Demo {product_type} by {creator.username}.",
                price=price,
                currency="EUR",
                product_type=product_type,
                track=track if product_type == Product.Type.LICENSE else None,
            )


def seed_orders(scale: int = 1) -> None:
    products = list(
        Product.objects.filter(seller__in=_creators(), is_active=True).order_by("title")
    )
    for username in BUYERS:
        buyer = User.objects.filter(username=username).first()
        if buyer is None:
            continue
        for product in products[:4]:
            already = OrderItem.objects.filter(
                order__buyer=buyer,
                product=product,
                order__status__in=[
                    Order.Status.PENDING,
                    Order.Status.COMPLETED,
                    Order.Status.REFUND_PENDING,
                    Order.Status.REFUNDED,
                ],
            ).exists()
            if not already:
                place_order(buyer=buyer, product_ids=[product.pk])


STEPS = [("products", seed_products), ("orders", seed_orders)]
