"""Seller balances and their append-only ledger."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AppendOnlyQuerySet(models.QuerySet):
    """Rows that are history: no bulk update or delete, whatever the caller."""

    def update(self, **kwargs):
        raise PermissionError(f"{self.model.__name__} rows are append-only.")

    def delete(self):
        raise PermissionError(f"{self.model.__name__} rows are append-only.")


class SellerBalance(models.Model):
    """A seller's four amounts in one currency: a cache of its ledger entries, each ≥ 0.

    ``check_ledger`` proves that each amount equals the sum of its entries' deltas.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="balances"
    )
    currency = models.CharField(max_length=3)
    pending = models.BigIntegerField(default=0, help_text="Earned inside the refund window.")
    available = models.BigIntegerField(default=0, help_text="Can be paid out.")
    held = models.BigIntegerField(default=0, help_text="Frozen by open disputes.")
    debt = models.BigIntegerField(default=0, help_text="Owed back; repaid from next earnings.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "currency"], name="balance_one_per_currency"),
            models.CheckConstraint(condition=Q(available__gte=0), name="balance_not_negative"),
            models.CheckConstraint(
                condition=Q(pending__gte=0), name="balance_pending_not_negative"
            ),
            models.CheckConstraint(condition=Q(held__gte=0), name="balance_held_not_negative"),
            models.CheckConstraint(condition=Q(debt__gte=0), name="balance_debt_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.seller.username} — {self.currency}"

    @property
    def total(self) -> int:
        """What the platform owes the seller: pending + available + held − debt."""
        return self.pending + self.available + self.held - self.debt


class LedgerEntry(models.Model):
    """Append-only: every change of a SellerBalance, with its effect on each of the amounts."""

    class Kind(models.TextChoices):
        SALE_CREDIT = "sale_credit", "Sale credit"
        RELEASE = "release", "Release"
        REFUND_DEBIT = "refund_debit", "Refund debit"
        DISPUTE_HOLD = "dispute_hold", "Dispute hold"
        DISPUTE_RELEASE = "dispute_release", "Dispute release"
        DISPUTE_DEBIT = "dispute_debit", "Dispute debit"
        DEBT = "debt", "Debt"
        DEBT_RECOVERY = "debt_recovery", "Debt recovery"
        PAYOUT = "payout", "Payout"
        PAYOUT_RETURN = "payout_return", "Payout return"
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
    dispute = models.ForeignKey(
        "payments.Dispute",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    payout = models.ForeignKey(
        "payments.Payout",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    currency = models.CharField(max_length=3)
    requested_amount = models.BigIntegerField(help_text="Signed: what the movement asked for.")
    applied_amount = models.BigIntegerField(
        help_text="Signed effect on the seller's total (pending + available + held − debt)."
    )
    pending_delta = models.BigIntegerField(default=0)
    available_delta = models.BigIntegerField(default=0)
    held_delta = models.BigIntegerField(default=0)
    debt_delta = models.BigIntegerField(default=0)
    balance_after = models.BigIntegerField(help_text="The seller's total after this entry.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["seller", "currency", "created_at"]),
            # The admin's ledger list: newest first, filtered by kind.
            models.Index(fields=["kind", "-created_at"], name="ledger_kind_recent_idx"),
        ]
        constraints = [
            # A sale is credited and released once per seller, a refund debited once, a
            # dispute held, released or debited once, whatever the number of deliveries or
            # of workers: the database refuses the second entry.
            models.UniqueConstraint(
                fields=["seller", "order", "kind"],
                condition=Q(kind__in=["sale_credit", "release"]),
                name="ledger_once_per_seller_order",
            ),
            models.UniqueConstraint(
                fields=["seller", "refund", "kind"],
                condition=Q(kind="refund_debit"),
                name="ledger_once_per_seller_refund",
            ),
            models.UniqueConstraint(
                fields=["seller", "dispute", "kind"],
                condition=Q(kind__in=["dispute_hold", "dispute_release", "dispute_debit"]),
                name="ledger_once_per_seller_dispute",
            ),
            models.UniqueConstraint(
                fields=["payout", "kind"],
                condition=Q(kind__in=["payout", "payout_return"]),
                name="ledger_once_per_payout",
            ),
            models.CheckConstraint(
                condition=Q(
                    applied_amount=models.F("pending_delta")
                    + models.F("available_delta")
                    + models.F("held_delta")
                    - models.F("debt_delta")
                ),
                name="ledger_applied_is_sum_of_deltas",
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
