"""Refunds, the items they cover, and the admin's bulk syncs with the provider."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Refund(models.Model):
    class Status(models.TextChoices):
        # Four-eyes: a large or out-of-window staff refund waits for a second Finance member.
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"

    TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.REJECTED})
    OPEN = frozenset({Status.AWAITING_APPROVAL, Status.PENDING})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("marketplace.Order", on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # NULL until the provider answers; UNIQUE so duplicate notifications land on one row.
    # The column keeps the name the contract gives the refunds table.
    provider_refund_id = models.CharField(
        max_length=128, null=True, blank=True, unique=True, db_column="hyperswitch_refund_id"
    )
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
        # The admin's refund list: newest first, filtered by status.
        indexes = [models.Index(fields=["status", "-created_at"], name="refund_status_recent_idx")]
        permissions = [
            ("open_refund", "Can open a refund for an order"),
            ("sync_refund", "Can sync refunds with the payment provider"),
            ("override_refund_window", "Can refund after the refund window, with a reason"),
            ("approve_refund", "Can approve or reject a refund another staff member opened"),
        ]
        constraints = [
            # At most one refund in flight per order (waiting for approval counts), whatever
            # races the API.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["awaiting_approval", "pending"]),
                name="refund_one_pending_per_order",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class RefundItem(models.Model):
    """An order item a refund covers. While the refund is not failed the item is taken: the
    partial unique index makes the database refuse a second refund of the same item."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="refund_items")
    order_item = models.ForeignKey(
        "marketplace.OrderItem", on_delete=models.PROTECT, related_name="refund_items"
    )
    amount = models.BigIntegerField()
    active = models.BooleanField(default=True, help_text="False once the refund failed.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order_item"],
                condition=Q(active=True),
                name="refund_item_once_while_active",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_item_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.order_item_id} in {self.refund_id}"


class RefundSyncBatch(models.Model):
    """A bulk "sync with provider" from the admin, run on the worker in chunks: how far it
    got and what it found. Counters only grow, under the row's lock."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    total = models.PositiveIntegerField()
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0, help_text="Refunds whose status changed.")
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    # The refunds whose status changed or that failed to sync (capped), for the progress page.
    results = models.JSONField(default=list, blank=True)
    # Indexes of the chunks counted: a job delivered twice (acks late) is counted once.
    chunks_done = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "refund sync batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")), name="refund_sync_batch_done_le_total"
            ),
        ]

    def __str__(self) -> str:
        return f"Sync of {self.total} refunds ({self.done} done)"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None
