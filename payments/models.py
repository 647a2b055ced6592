import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class EventOutcome(models.TextChoices):
    """What applying a provider event did: the one spelling for refunds, payments and intake."""

    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
    ERROR = "error", "Error"


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that are history: no bulk update or delete, whatever the caller."""

    def update(self, **kwargs):
        raise PermissionError(f"{self.model.__name__} rows are append-only.")

    def delete(self):
        raise PermissionError(f"{self.model.__name__} rows are append-only.")


class SellerBalance(models.Model):
    """A cache of the seller's ledger entries in one currency; ``check_ledger`` proves it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="balances"
    )
    currency = models.CharField(max_length=3)
    available = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "currency"], name="balance_one_per_currency"),
            models.CheckConstraint(condition=Q(available__gte=0), name="balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.seller_id} {self.available} {self.currency}"


class LedgerEntry(models.Model):
    """Append-only: every change of a SellerBalance, with what was asked and what was applied."""

    class Kind(models.TextChoices):
        SALE_CREDIT = "sale_credit", "Sale credit"
        REFUND_DEBIT = "refund_debit", "Refund debit"
        PAYOUT = "payout", "Payout"
        ADJUSTMENT = "adjustment", "Adjustment"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    order = models.ForeignKey(
        "marketplace.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    refund = models.ForeignKey(
        "payments.Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    currency = models.CharField(max_length=3)
    requested_amount = models.BigIntegerField(help_text="Signed: credits > 0, debits < 0.")
    applied_amount = models.BigIntegerField(help_text="Signed amount really applied.")
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "ledger entries"
        constraints = [
            # A sale is credited once and a refund debited once per seller, whatever the
            # number of deliveries: the database refuses the second entry.
            models.UniqueConstraint(
                fields=["seller", "order", "kind"],
                condition=Q(kind__in=["sale_credit", "refund_debit"]),
                name="ledger_one_sale_move_per_seller_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.applied_amount} {self.currency}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger entries are append-only.")


class SellerTransfer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        REVERSED = "reversed", "Reversed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfers"
    )
    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, related_name="transfers"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    provider_transfer_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "order"], name="transfer_one_per_seller_order"
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer {self.amount} {self.currency} → {self.seller_id}"


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("marketplace.Order", on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # NULL until the provider answers; UNIQUE so duplicate notifications land on one row.
    hyperswitch_refund_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_refunds",
    )
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "refunds"
        ordering = ["-created_at"]
        permissions = [
            ("open_refund", "Can open a refund for an order"),
            ("sync_refund", "Can sync refunds with the payment provider"),
            ("override_refund_window", "Can refund after the refund window, with a reason"),
        ]
        constraints = [
            # At most one refund in flight per order, whatever races the API.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status="pending"),
                name="refund_one_pending_per_order",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class WebhookEvent(models.Model):
    """Every signed notification received, with what we did with it."""

    Outcome = EventOutcome

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        UNKNOWN = "unknown", "Unknown"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The deduplication key: set only on the delivery that was applied, so a repeat of an
    # event_id is refused by the database, while errors stay retryable.
    event_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    provider_event_id = models.CharField(max_length=128, blank=True, db_index=True)
    event_type = models.CharField(max_length=64, blank=True, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.UNKNOWN)
    payment_id = models.CharField(max_length=128, blank=True, db_index=True)
    refund_ref = models.CharField(max_length=128, blank=True, db_index=True)
    status = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    detail = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    order = models.ForeignKey(
        "marketplace.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_events",
    )
    source = models.CharField(max_length=16, default="webhook")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type or '?'} {self.outcome}"
