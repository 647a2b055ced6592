"""Invoices and credit notes: documents of record, numbered without gaps, never changed.

An ``Invoice`` row is either an invoice (one per paid order) or a credit note (one per
succeeded refund or lost dispute, correcting the order's invoice). Both carry snapshots of
the two parties as they were when the document was issued, so that a later change of a
user's email or of the platform's address never rewrites history.
"""

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone


class AppendOnlyQuerySet(models.QuerySet):
    """Documents of record: no bulk update or delete, whatever the caller."""

    def update(self, **kwargs):
        raise PermissionError(f"{self.model.__name__} rows are append-only.")

    def delete(self):
        raise PermissionError(f"{self.model.__name__} rows are append-only.")


class AppendOnlyModel(models.Model):
    """``save()`` of an existing row and ``delete()`` raise: a document is issued once."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{type(self).__name__} rows are append-only.")


def rate_text(rate) -> str:
    """A VAT rate as the API spells it: ``"19.0"``, ``"25.5"``, ``"0"``."""
    value = Decimal(rate).normalize()
    if value == 0:
        return "0"
    text = format(value, "f")
    return text if "." in text else f"{text}.0"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceSeries(models.Model):
    """The last number given in one kind's series of one year; its row lock, held until the
    issuing transaction commits, is what makes the numbers gapless."""

    kind = models.CharField(max_length=16, choices=InvoiceKind.choices)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "invoice series"
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="invoice_series_one_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last_number}"


class Invoice(AppendOnlyModel):
    Kind = InvoiceKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=16, choices=InvoiceKind.choices)
    year = models.PositiveSmallIntegerField(help_text="UTC year of issue: the series.")
    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, related_name="invoices"
    )
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        help_text="The invoice a credit note corrects.",
    )
    # What a credit note answers. Ids, not foreign keys: invoicing knows no payments model.
    refund_id = models.UUIDField(null=True, blank=True, unique=True)
    dispute_id = models.UUIDField(null=True, blank=True, unique=True)
    reason = models.CharField(max_length=1000, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    seller = models.JSONField(help_text="{name, address, vat_number} as issued.")
    buyer = models.JSONField(help_text="{name, email, country, vat_number} as issued.")
    net_total = models.BigIntegerField()
    vat_total = models.BigIntegerField()
    gross_total = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reverse_charge = models.BooleanField(default=False)
    tax_country = models.CharField(max_length=2, null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-number"]
        indexes = [
            models.Index(fields=["issued_at"], name="invoice_issued_idx"),
            models.Index(fields=["kind", "year"], name="invoice_kind_year_idx"),
        ]
        constraints = [
            # One invoice per order, however many deliveries of the payment webhook.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="invoice"), name="invoice_one_per_order"
            ),
            models.CheckConstraint(
                condition=Q(gross_total=models.F("net_total") + models.F("vat_total")),
                name="invoice_gross_is_net_plus_vat",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", corrects__isnull=True)
                | Q(kind="credit_note", corrects__isnull=False),
                name="invoice_credit_note_corrects_an_invoice",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def corrects_invoice_id(self):
        return self.corrects_id


class InvoiceLine(AppendOnlyModel):
    """One line of a document: an order item, its net, rate and VAT (negative on a credit
    note). A table rather than JSON so that the VAT report is one SQL aggregate."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=300)
    order_item = models.ForeignKey(
        "marketplace.OrderItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
    )
    net_amount = models.BigIntegerField()
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    vat_amount = models.BigIntegerField()
    gross_amount = models.BigIntegerField()

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
            models.CheckConstraint(
                condition=Q(gross_amount=models.F("net_amount") + models.F("vat_amount")),
                name="invoice_line_gross_is_net_plus_vat",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} #{self.position}"
