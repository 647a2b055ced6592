"""Where a seller's money goes, and each payout of it."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class PayoutMethod(models.Model):
    """Where a seller's payouts go, and whether staff paused them. One per seller; the
    provider's customer id is the seller's id.

    The widget's ``payout_token`` is short-lived: once a payout answer names the saved method
    (``payout_method_id``), later payouts send that instead. A method the provider refuses
    (a lapsed token, ``ineligible``, ``requires_payout_method_data``) is ``needs_update``: no
    payout is attempted until the seller PUTs a new one.
    """

    class Type(models.TextChoices):
        BANK = "bank", "Bank account"
        CARD = "card", "Card"
        WALLET = "wallet", "Wallet"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        NEEDS_UPDATE = "needs_update", "Needs update"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_method"
    )
    payout_type = models.CharField(max_length=16, choices=Type.choices)
    payout_token = models.CharField(max_length=255)
    payout_method_id = models.CharField(
        max_length=128, blank=True, help_text="The provider's saved method, sent once known."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    needs_update_reason = models.TextField(blank=True)
    needs_update_since = models.DateTimeField(null=True, blank=True)
    payouts_paused = models.BooleanField(default=False, help_text="Paused by staff.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.payout_type} for {self.seller_id}"


class Payout(models.Model):
    """One transfer of a seller's whole ``available`` money to its payout method.

    pending → paid | failed; paid → reversed. Nothing else ever changes a terminal payout.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        REVERSED = "reversed", "Reversed"

    TERMINAL = frozenset({Status.PAID, Status.FAILED, Status.REVERSED})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    payout_type = models.CharField(max_length=16, choices=PayoutMethod.Type.choices)
    payout_token = models.CharField(max_length=255)
    payout_method_id = models.CharField(max_length=128, blank=True)
    # The provider's last word for it (``requires_payout_method_data``…), for Finance.
    provider_status = models.CharField(max_length=40, blank=True)
    # NULL until the provider confirms it holds the payout (our id is its payout_id).
    provider_payout_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("manage_payouts", "Can run, retry and pause seller payouts"),
        ]
        constraints = [
            # No second payout while one is in flight, whatever races the payout run.
            models.UniqueConstraint(
                fields=["seller", "currency"],
                condition=Q(status="pending"),
                name="payout_one_pending_per_seller",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Payout {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL
