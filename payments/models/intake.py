"""Every notification the provider sent, with what we did with it."""

import uuid

from django.db import models
from django.utils import timezone

from payments.models.refunds import Refund


class EventOutcome(models.TextChoices):
    """What applying a provider event did: the one spelling for refunds, payments and intake."""

    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
    ERROR = "error", "Error"


class WebhookEvent(models.Model):
    """Every signed notification received, with what we did with it."""

    Outcome = EventOutcome

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"
        PAYOUT = "payout", "Payout"
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
    # How many times the provider delivered this event_id: a replay adds one here (one
    # UPDATE) instead of a row of its own. Always 1 on rows without an event_id.
    deliveries = models.PositiveIntegerField(default=1)
    last_delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type or '?'} {self.outcome}"

    @property
    def duplicate_deliveries(self) -> int:
        return self.deliveries - 1
