"""Reads of refunds: who may see one, an order's list, and the "stuck refund" rule."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from marketplace.selectors import can_act_on_order
from payments.models import Refund


def stuck_refunds():
    """Pending for longer than REFUND_RECONCILE_AFTER: the one rule for the console, the
    overview, the command and the reconciliation task."""
    cutoff = timezone.now() - timedelta(seconds=settings.REFUND_RECONCILE_AFTER)
    return Refund.objects.filter(status=Refund.Status.PENDING, created_at__lte=cutoff)


def refund_visible_to(*, user, pk) -> Refund | None:
    """A refund its viewer may see (buyer, a seller of the order, admin); None otherwise."""
    refund = (
        Refund.objects.select_related("order")
        .prefetch_related("refund_items")
        .filter(pk=pk)
        .first()
    )
    if refund is None or not can_act_on_order(user=user, order=refund.order):
        return None
    return refund


def refunds_of_orders():
    """The queryset an order's JSON and admin page list as its refunds, newest first."""
    return Refund.objects.prefetch_related("refund_items").order_by("-created_at")
