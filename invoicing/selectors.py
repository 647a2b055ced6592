"""Reads of invoices and credit notes: who may see one, and the lists."""

from django.db.models import Prefetch

from invoicing.models import Invoice, InvoiceLine


def _with_lines(queryset):
    return queryset.prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position"))
    )


def invoices_of_buyer(user):
    """The caller's documents as the buyer of their orders, newest first."""
    return _with_lines(Invoice.objects.filter(order__buyer=user)).order_by("-issued_at", "-number")


def invoice_visible_to(*, user, pk) -> Invoice | None:
    """Its buyer's or any admin's; ``None`` for everyone else (a 404: not theirs to know)."""
    queryset = _with_lines(Invoice.objects.select_related("corrects", "order"))
    if not user.is_admin:
        queryset = queryset.filter(order__buyer=user)
    return queryset.filter(pk=pk).first()


def invoice_refs_of_orders():
    """What an order's JSON shows of its documents: prefetched, one query for a page."""
    return Invoice.objects.only("id", "number", "kind", "order_id", "issued_at").order_by(
        "issued_at", "number"
    )


def order_invoice(order_id) -> Invoice | None:
    """An order's invoice (not its credit notes), with its lines, order and buyer."""
    return (
        _with_lines(Invoice.objects.select_related("order__buyer"))
        .filter(order_id=order_id, kind=Invoice.Kind.INVOICE)
        .first()
    )
