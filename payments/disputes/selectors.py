"""Reads of disputes."""

from marketplace.selectors import can_act_on_order
from payments.models import Dispute


def disputes_of_orders():
    return Dispute.objects.order_by("-opened_at")


def dispute_visible_to(*, user, pk) -> Dispute | None:
    """A dispute its viewer may see (buyer, a seller of the order, admin); None otherwise."""
    dispute = Dispute.objects.select_related("order").filter(pk=pk).first()
    if dispute is None or not can_act_on_order(user=user, order=dispute.order):
        return None
    return dispute
