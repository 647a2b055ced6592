import uuid

from django.core.management.base import BaseCommand, CommandError

from marketplace.models import Order
from payments.models import Dispute
from payments.providers import SandboxProvider, get_provider

OUTCOMES = ["open", "won", "lost", "accepted", "cancelled", "expired"]


class Command(BaseCommand):
    help = (
        "Sandbox only: the buyer's bank disputes a paid order. Sends dispute_opened and, "
        "unless --outcome open, the decision, as signed webhooks through the real inbound path."
    )

    def add_arguments(self, parser):
        parser.add_argument("order_id")
        parser.add_argument("--outcome", choices=OUTCOMES, default="open")
        parser.add_argument("--amount", type=int, help="minor units; default: the order total")

    def handle(self, *args, order_id: str, outcome: str, amount: int | None, **options):
        provider = get_provider()
        if not isinstance(provider, SandboxProvider):
            raise CommandError("Only the sandbox provider (no HYPERSWITCH_BASE_URL) can do this.")
        order = Order.objects.filter(pk=order_id).first() if _is_uuid(order_id) else None
        if order is None or not order.hyperswitch_payment_id:
            raise CommandError(f"No paid order {order_id}.")
        open_dispute = (
            Dispute.objects.filter(order=order).exclude(status__in=Dispute.TERMINAL).first()
        )
        if open_dispute is not None and outcome != "open":
            provider.settle_dispute(
                dispute_id=open_dispute.provider_dispute_id,
                payment_id=order.hyperswitch_payment_id,
                amount=open_dispute.amount,
                currency=open_dispute.currency,
                outcome=outcome,
            )
            dispute_id = open_dispute.provider_dispute_id
        else:
            dispute_id = provider.raise_dispute(
                payment_id=order.hyperswitch_payment_id,
                amount=amount if amount is not None else order.total_amount - order.refunded_amount,
                currency=order.currency,
                outcome=None if outcome == "open" else outcome,
            )
        dispute = Dispute.objects.filter(provider_dispute_id=dispute_id).first()
        order.refresh_from_db()
        state = dispute.status if dispute else "queued to the worker"
        self.stdout.write(f"dispute {dispute_id}: {state}; order {order.pk}: {order.status}")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
