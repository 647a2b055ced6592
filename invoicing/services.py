"""Issuing invoices and credit notes, inside the caller's transaction.

payments calls these while it holds the order's row lock, in the transaction that completes
the order, settles a refund or charges a dispute back: the document exists exactly when the
money movement does. A number is taken under the row lock of its series, which stays held
until that transaction commits: a rollback gives the number back, and two issuers never
take the same one, so each series is gapless and increases in issue order.
"""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceSeries
from marketplace.models import Order, OrderItem
from veza.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

CONFIRMATION_TASK = "invoicing.tasks.send_order_confirmation"


def format_number(*, kind: str, year: int, sequence: int) -> str:
    """``VZ-2025-000042`` for an invoice, ``VZ-C-2025-000007`` for a credit note."""
    prefix = settings.INVOICE_PREFIX
    if kind == InvoiceKind.CREDIT_NOTE:
        prefix = f"{prefix}-C"
    return f"{prefix}-{year}-{sequence:06d}"


def next_number(*, kind: str) -> tuple[str, datetime]:
    """The next number of ``kind``'s series and the moment of issue, taken on the series'
    row locked until commit: the issue time is read once the lock is held, so that a later
    number is never issued before an earlier one. Must run inside a transaction.
    """
    while True:
        year = timezone.now().astimezone(UTC).year
        series = _lock_series(kind=kind, year=year)
        issued_at = timezone.now()
        if issued_at.astimezone(UTC).year == year:
            break
        # The year ended while waiting for the lock: this document is the new year's first
        # (the old series keeps its last number; nothing was taken from it).
    series.last_number += 1
    series.save(update_fields=["last_number"])
    return format_number(kind=kind, year=year, sequence=series.last_number), issued_at


def _lock_series(*, kind: str, year: int) -> InvoiceSeries:
    series = InvoiceSeries.objects.select_for_update().filter(kind=kind, year=year).first()
    if series is None:
        # The year's first document. The row this transaction inserts is its own until it
        # commits; a concurrent first issuer's INSERT waits on the UNIQUE index, then fails
        # and takes the row's lock as everyone else does.
        try:
            with transaction.atomic():
                series = InvoiceSeries.objects.create(kind=kind, year=year)
        except IntegrityError:
            series = InvoiceSeries.objects.select_for_update().get(kind=kind, year=year)
    return series


def platform_party() -> dict:
    """The issuer: Veza, the seller of record."""
    return {
        "name": settings.PLATFORM_LEGAL_NAME,
        "address": settings.PLATFORM_ADDRESS,
        "vat_number": settings.PLATFORM_VAT_NUMBER,
    }


def buyer_party(order: Order, buyer) -> dict:
    return {
        "name": buyer.display_name or buyer.username,
        "email": buyer.email,
        "country": order.tax_country or order.billing_country or None,
        "vat_number": order.vat_number or None,
    }


def issue_invoice(*, order: Order) -> Invoice:
    """The order's invoice, once: its items as lines, the order's sums as totals.

    The caller holds the order's row lock (an order has one invoice: a second call returns
    the first). Queues the order confirmation email, the PDF attached, on commit.
    """
    with transaction.atomic(savepoint=False):
        existing = Invoice.objects.filter(order=order, kind=InvoiceKind.INVOICE).first()
        if existing is not None:
            return existing
        # The lines' products and the buyer in one read (the buyer through the items' join).
        items = list(
            OrderItem.objects.filter(order=order)
            .select_related("product", "order__buyer")
            .order_by("position", "pk")
        )
        buyer = items[0].order.buyer if items else order.buyer
        number, issued_at = next_number(kind=InvoiceKind.INVOICE)
        invoice = Invoice.objects.create(
            number=number,
            kind=InvoiceKind.INVOICE,
            year=issued_at.astimezone(UTC).year,
            order=order,
            issued_at=issued_at,
            seller=platform_party(),
            buyer=buyer_party(order, buyer),
            net_total=order.net_amount,
            vat_total=order.vat_amount,
            gross_total=order.total_amount,
            currency=order.currency,
            reverse_charge=order.reverse_charge,
            tax_country=order.tax_country,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                position=position,
                description=item.product.title,
                order_item=item,
                net_amount=item.price,
                vat_rate=item.vat_rate,
                vat_amount=item.vat_amount,
                gross_amount=item.price + item.vat_amount,
            )
            for position, item in enumerate(items, start=1)
        )
        enqueue_on_commit(CONFIRMATION_TASK, order_id=str(order.pk))
    return invoice


def issue_credit_note(
    *,
    order: Order,
    items: list[OrderItem],
    reason: str = "",
    refund_id=None,
    dispute_id=None,
) -> Invoice | None:
    """The credit note of a succeeded refund or a lost dispute: the exact negatives of the
    invoice lines of ``items``. Once per refund or dispute (a second call returns the
    first); ``None`` when the order has no invoice (paid before invoicing existed) or no
    line to correct. The caller holds the order's row lock.
    """
    if (refund_id is None) == (dispute_id is None):
        raise ValueError("A credit note answers one refund or one dispute.")
    answered = Q(invoice__refund_id=refund_id) if refund_id else Q(invoice__dispute_id=dispute_id)
    with transaction.atomic(savepoint=False):
        # The invoice's lines and any credit note already issued for this refund or dispute,
        # in one read.
        lines = list(
            InvoiceLine.objects.filter(invoice__order=order)
            .filter(Q(invoice__kind=InvoiceKind.INVOICE) | answered)
            .select_related("invoice")
            .order_by("position")
        )
        for line in lines:
            if line.invoice.kind == InvoiceKind.CREDIT_NOTE:
                return line.invoice  # this refund's or dispute's, issued before
        if not lines:
            logger.info("order %s has no invoice: no credit note issued", order.pk)
            return None
        invoice = lines[0].invoice
        covered = {item.pk for item in items}
        corrected = [line for line in lines if line.order_item_id in covered]
        if not corrected:
            logger.warning("order %s: none of the items is on invoice %s", order.pk, invoice)
            return None
        number, issued_at = next_number(kind=InvoiceKind.CREDIT_NOTE)
        credit_note = Invoice.objects.create(
            number=number,
            kind=InvoiceKind.CREDIT_NOTE,
            year=issued_at.astimezone(UTC).year,
            order=order,
            corrects=invoice,
            refund_id=refund_id,
            dispute_id=dispute_id,
            reason=(reason or "")[:1000],
            issued_at=issued_at,
            seller=platform_party(),
            buyer=invoice.buyer,  # the party of the invoice it corrects
            net_total=-sum(line.net_amount for line in corrected),
            vat_total=-sum(line.vat_amount for line in corrected),
            gross_total=-sum(line.gross_amount for line in corrected),
            currency=invoice.currency,
            reverse_charge=invoice.reverse_charge,
            tax_country=invoice.tax_country,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=credit_note,
                position=position,
                description=line.description,
                order_item_id=line.order_item_id,
                net_amount=-line.net_amount,
                vat_rate=line.vat_rate,
                vat_amount=-line.vat_amount,
                gross_amount=-line.gross_amount,
            )
            for position, line in enumerate(corrected, start=1)
        )
    return credit_note
