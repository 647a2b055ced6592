"""Demo refunds in each state, made through the real refund services.

- succeeded: opened and sent to the provider (the sandbox confirms it by webhook);
- failed: opened, then the provider's refusal applied through ``apply_refund_status``;
- pending: opened and not yet confirmed (what reconciliation would pick up).
"""

from accounts.models import User
from marketplace.models import Order
from payments.models import Refund
from payments.services import apply_refund_status, open_refund, submit_refund

DEMO_REASONS = {
    "succeeded": "demo: bought the wrong pack",
    "failed": "demo: card expired",
    "pending": "demo: waiting for the bank",
}


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
                status="failed",
                error_message="The issuer declined the refund (demo).",
                source="seed",
            )


STEPS = [("refunds", seed_refunds)]
