"""Chargebacks and what each froze of a seller's money."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Dispute(models.Model):
    """A chargeback the provider reported; one row per provider ``dispute_id``."""

    class Status(models.TextChoices):
        OPENED = "opened", "Opened"
        CHALLENGED = "challenged", "Challenged"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        ACCEPTED = "accepted", "Accepted"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    class Stage(models.TextChoices):
        """The provider's ``dispute_stage``: evidence is answered at the ``dispute`` stage."""

        PRE_DISPUTE = "pre_dispute", "Pre-dispute"
        DISPUTE = "dispute", "Dispute"
        PRE_ARBITRATION = "pre_arbitration", "Pre-arbitration"

    TERMINAL = frozenset(
        {Status.WON, Status.LOST, Status.ACCEPTED, Status.CANCELLED, Status.EXPIRED}
    )
    RETURNS_MONEY = frozenset({Status.WON, Status.CANCELLED})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(
        "marketplace.Order", on_delete=models.PROTECT, related_name="disputes"
    )
    provider_dispute_id = models.CharField(max_length=128, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPENED)
    stage = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    evidence_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    order_status_before = models.CharField(max_length=32, blank=True)
    # Staff conceded the dispute at the provider: no evidence is sent after this; the
    # provider's ``dispute_accepted`` event then closes it.
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="dispute_not_negative"),
        ]
        permissions = [
            ("manage_dispute", "Can re-submit a dispute's evidence or accept the dispute"),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.provider_dispute_id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class DisputeEvidence(models.Model):
    """The evidence Veza submits for a dispute, built and sent by a task; one row per dispute.

    ``attempts`` counts the task's runs; a run holds the row for ``claimed_until`` while it
    talks to the provider, so a second delivery of the task does not submit alongside it.
    The file ids are kept as soon as each upload succeeds: a retry does not upload again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUBMITTED = "submitted", "Submitted"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"  # closed, past due or accepted before it could be sent

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dispute = models.OneToOneField(Dispute, on_delete=models.CASCADE, related_name="evidence")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    receipt_file_id = models.CharField(max_length=128, blank=True)
    service_documentation_file_id = models.CharField(max_length=128, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "dispute evidence"
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="submitted") | Q(submitted_at__isnull=False),
                name="dispute_evidence_submitted_at",
            ),
        ]

    def __str__(self) -> str:
        return f"evidence for {self.dispute_id} ({self.status})"


class DisputeShare(models.Model):
    """What a dispute froze of one seller's money, and where it came from, so that a won
    dispute returns it exactly where it was."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="shares")
    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dispute_shares"
    )
    amount = models.BigIntegerField()
    from_pending = models.BigIntegerField(default=0)
    from_available = models.BigIntegerField(default=0)
    as_debt = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dispute", "seller"], name="dispute_share_once"),
        ]

    def __str__(self) -> str:
        return f"{self.seller_id}: {self.amount}"
