"""Demo paid orders and refunds in each state, made through the real services.

Orders go through ``place_order`` and the configured provider: without HYPERSWITCH_BASE_URL
the sandbox settles each payment by sending its signed webhook through the real inbound
path, so the demo orders are completed by the same code as in production.

- succeeded: opened and sent to the provider (the sandbox confirms it by webhook);
- failed: opened, then the provider's refusal applied through ``apply_refund_status``;
- pending: opened and not yet confirmed (what reconciliation would pick up).
"""

from accounts.models import User
from marketplace.models import Order, OrderItem, Product
from marketplace.seed import demo_sellers
from payments.checkout import place_order
from payments.models import Refund
from payments.services import apply_refund_status, open_refund, submit_refund

BUYERS = ["demo_user", "demo_premium"]

DEMO_REASONS = {
    "succeeded": "demo: bought the wrong pack",
    "failed": "demo: card expired",
    "pending": "demo: waiting for the bank",
}


def seed_orders(scale: int = 1) -> None:
    products = list(
        Product.objects.filter(seller__in=demo_sellers(), is_active=True).order_by("title")
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


def seed_refunds(scale: int = 1) -> None:
    buyer = User.objects.filter(username="demo_user").first()
    if buyer is None:
        return
    for outcome, reason in DEMO_REASONS.items():
        if Refund.objects.filter(order__buyer=buyer, reason=reason).exists():
            continue
        order = (
            Order.objects.filter(buyer=buyer, status=Order.Status.COMPLETED)
            .exclude(refunds__reason__startswith="demo:")
            .order_by("created_at")
            .first()
        )
        if order is None:
            return
        refund = open_refund(order_id=order.pk, requested_by=buyer, reason=reason)
        if outcome == "succeeded":
            submit_refund(refund=refund)
        elif outcome == "failed":
            apply_refund_status(
                refund_id=refund.pk,
                status=Refund.Status.FAILED,
                error_message="The issuer declined the refund (demo).",
                source="seed",
            )


STEPS = [("orders", seed_orders), ("refunds", seed_refunds)]
