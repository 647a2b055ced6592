"""A seller's share of one order, from the sale to its payout."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SellerTransfer(models.Model):
    """A seller's share of one order: pending → released (after the window) → paid (by a
    payout), or reversed when refunds or a lost dispute took all of it back."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RELEASED = "released", "Released"
        PAID = "paid", "Paid"
        REVERSED = "reversed", "Reversed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfers"
    )
    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, related_name="transfers"
    )
    amount = models.BigIntegerField(help_text="The seller's share still standing.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    released_at = models.DateTimeField(null=True, blank=True)
    payout = models.ForeignKey(
        "payments.Payout",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers",
        help_text="The payout that carries (or carried) this share.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "seller"])]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "order"], name="transfer_one_per_seller_order"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="transfer_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Transfer {self.amount} {self.currency} → {self.seller_id}"
