"""Demo products for the demo creators (the paid orders are seeded by payments). Idempotent."""

from accounts.models import CREATOR_ROLES, User
from marketplace.models import Product
from marketplace.services import create_product

CATALOGUE = [
    ("Sample pack", Product.Type.SAMPLE, 1499),
    ("Stems and licence", Product.Type.LICENSE, 4999),
]


def demo_sellers():
    return User.objects.filter(username__startswith="demo_", role__in=CREATOR_ROLES).exclude(
        username__startswith="demo_buyer_"
    )


def seed_products(scale: int = 1) -> None:
    for creator in demo_sellers().order_by("username"):
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


STEPS = [("products", seed_products)]
