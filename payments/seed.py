"""Demo paid orders and refunds in each state, made through the real services.

Orders go through ``place_order`` and the configured provider: without HYPERSWITCH_BASE_URL
the sandbox settles each payment by sending its signed webhook through the real inbound
path, so the demo orders are completed by the same code as in production.

- succeeded: opened and sent to the provider (the sandbox confirms it by webhook);
- failed: opened, then the provider's refusal applied through ``apply_refund_status``;
- pending: opened and not yet confirmed (what reconciliation would pick up).

Payouts: the demo orders' refund windows are closed (a service call), their money released,
two demo sellers given a payout method (the second one's token starts with ``fail_``, so the
sandbox fails it) and the payout run made: the sandbox settles each payout by webhook.
"""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from marketplace.models import Order, OrderItem, Product
from marketplace.seed import demo_sellers
from marketplace.services import end_refund_window
from payments.checkout import place_order
from payments.models import Payout, PayoutMethod, Refund
from payments.payouts.release import release_due
from payments.payouts.services import run_payouts
from payments.refunds.services import open_refund, submit_refund
from payments.refunds.settle import apply_refund_status

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


DEMO_PAYOUT_TOKENS = ["tok_demo_bank", "fail_demo_closed_account"]


def seed_payouts(scale: int = 1) -> None:
    sellers = list(demo_sellers().order_by("username")[: len(DEMO_PAYOUT_TOKENS)])
    for seller, token in zip(sellers, DEMO_PAYOUT_TOKENS, strict=False):
        PayoutMethod.objects.get_or_create(
            seller=seller, defaults={"payout_type": "bank", "payout_token": token}
        )
    closed_at = timezone.now() - timedelta(seconds=1)
    completed = Order.objects.filter(
        items__seller__in=sellers,
        status=Order.Status.COMPLETED,
        refund_deadline__gt=closed_at,
    ).distinct()
    for order_id in list(completed.values_list("pk", flat=True)):
        end_refund_window(order_id=order_id, now=closed_at)
    release_due()
    if not Payout.objects.filter(seller__in=sellers).exists():  # idempotent: one run only
        run_payouts()


STEPS = [("orders", seed_orders), ("refunds", seed_refunds), ("payouts", seed_payouts)]
