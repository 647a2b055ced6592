"""Issuing invoices and credit notes, inside the caller's transaction.

payments calls these while it holds the order's row lock, in the transaction that completes
the order, settles a refund or charges a dispute back: the document exists exactly when the
money movement does. A number is taken under the row lock of its series, which stays held
until that transaction commits: a rollback gives the number back, and two issuers never
take the same one, so each series is gapless and increases in issue order.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
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

    One statement in the steady state: an ``UPDATE … RETURNING`` that locks the row, adds one
    and reads the number (the series is a global serialisation point: every issuer of the
    kind queues on it, so it is taken as late and held as briefly as the caller can).
    """
    while True:
        year = timezone.now().astimezone(UTC).year
        sequence = _take_number(kind=kind, year=year)
        if sequence is None:
            _create_series(kind=kind, year=year)
            continue
        issued_at = timezone.now()
        if issued_at.astimezone(UTC).year == year:
            return format_number(kind=kind, year=year, sequence=sequence), issued_at
        # The year ended while waiting for the lock: this document is the new year's first.
        # The number just taken is given back (the lock is still ours: nobody took a later
        # one), so the old series keeps its last number.
        _take_number(kind=kind, year=year, step=-1)


def _take_number(*, kind: str, year: int, step: int = 1) -> int | None:
    """``last_number += step`` on the locked series row, its new value; None without a row."""
    table = connection.ops.quote_name(InvoiceSeries._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_number = last_number + %s "  # noqa: S608 - our table
            "WHERE kind = %s AND year = %s RETURNING last_number",
            [step, kind, year],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def _create_series(*, kind: str, year: int) -> None:
    """The year's first document: its series row. A concurrent first issuer's INSERT waits
    on the UNIQUE index and then does nothing (``ON CONFLICT DO NOTHING``): both take the
    number on the row that exists."""
    InvoiceSeries.objects.bulk_create([InvoiceSeries(kind=kind, year=year)], ignore_conflicts=True)


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


@dataclass
class Draft:
    """A document read and computed but not yet numbered: ``issue()`` takes its number on
    the series' row lock (held until commit) and inserts it with its lines. A caller that
    holds other hot locks runs it last, just before its commit, so that every issuer of the
    kind queues on the series for two statements and the commit only."""

    invoice: Invoice
    lines: list[InvoiceLine]
    confirm_order: bool = False  # an invoice queues the order confirmation on commit

    def issue(self) -> Invoice:
        invoice = self.invoice
        invoice.number, invoice.issued_at = next_number(kind=invoice.kind)
        invoice.year = invoice.issued_at.astimezone(UTC).year
        invoice.save(force_insert=True)
        for line in self.lines:
            line.invoice = invoice
        InvoiceLine.objects.bulk_create(self.lines)
        if self.confirm_order:
            enqueue_on_commit(CONFIRMATION_TASK, order_id=str(invoice.order_id))
        return invoice


def issue(document: "Draft | Invoice | None") -> Invoice | None:
    """A prepared document issued; one issued before (or none to issue) as it is."""
    return document.issue() if isinstance(document, Draft) else document


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
        return prepare_invoice(order=order, items=items).issue()


def prepare_invoice(*, order: Order, items: list[OrderItem]) -> Draft:
    """The invoice of an order that has none yet (the caller knows: it holds the order's
    lock and just completed it), from its ``items`` read with their products and the order's
    buyer (``select_related("product", "order__buyer")``); no statement."""
    items = sorted(items, key=lambda item: (item.position, str(item.pk)))
    buyer = items[0].order.buyer if items else order.buyer
    invoice = Invoice(
        kind=InvoiceKind.INVOICE,
        order=order,
        seller=platform_party(),
        buyer=buyer_party(order, buyer),
        net_total=order.net_amount,
        vat_total=order.vat_amount,
        gross_total=order.total_amount,
        currency=order.currency,
        reverse_charge=order.reverse_charge,
        tax_country=order.tax_country,
    )
    lines = [
        InvoiceLine(
            position=position,
            description=item.product.title,
            order_item=item,
            net_amount=item.price,
            vat_rate=item.vat_rate,
            vat_amount=item.vat_amount,
            gross_amount=item.price + item.vat_amount,
        )
        for position, item in enumerate(items, start=1)
    ]
    return Draft(invoice=invoice, lines=lines, confirm_order=True)


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
    with transaction.atomic(savepoint=False):
        return issue(
            prepare_credit_note(
                order=order, items=items, reason=reason, refund_id=refund_id, dispute_id=dispute_id
            )
        )


def prepare_credit_note(
    *,
    order: Order,
    items: list[OrderItem],
    reason: str = "",
    refund_id=None,
    dispute_id=None,
) -> Draft | Invoice | None:
    """``issue_credit_note``'s read and arithmetic, one statement: the unnumbered credit
    note (``Draft``), or the one issued before for this refund or dispute, or ``None``."""
    if (refund_id is None) == (dispute_id is None):
        raise ValueError("A credit note answers one refund or one dispute.")
    answered = Q(invoice__refund_id=refund_id) if refund_id else Q(invoice__dispute_id=dispute_id)
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
    credit_note = Invoice(
        kind=InvoiceKind.CREDIT_NOTE,
        order=order,
        corrects=invoice,
        refund_id=refund_id,
        dispute_id=dispute_id,
        reason=(reason or "")[:1000],
        seller=platform_party(),
        buyer=invoice.buyer,  # the party of the invoice it corrects
        net_total=-sum(line.net_amount for line in corrected),
        vat_total=-sum(line.vat_amount for line in corrected),
        gross_total=-sum(line.gross_amount for line in corrected),
        currency=invoice.currency,
        reverse_charge=invoice.reverse_charge,
        tax_country=invoice.tax_country,
    )
    new_lines = [
        InvoiceLine(
            position=position,
            description=line.description,
            order_item_id=line.order_item_id,
            net_amount=-line.net_amount,
            vat_rate=line.vat_rate,
            vat_amount=-line.vat_amount,
            gross_amount=-line.gross_amount,
        )
        for position, line in enumerate(corrected, start=1)
    ]
    return Draft(invoice=credit_note, lines=new_lines)
