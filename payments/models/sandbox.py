"""What the built-in sandbox provider was asked, kept where every node sees it."""

import uuid

from django.db import models
from django.utils import timezone


class SandboxObject(models.Model):
    """A payment, refund, payout, evidence file or dispute answer as the sandbox provider holds
    it (development only).

    In the database, not in a cache: a cache flush or another web replica must not turn a
    pending sandbox refund into an unknown one at reconciliation.
    """

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        PAYOUT = "payout", "Payout"
        FILE = "file", "File"
        EVIDENCE = "evidence", "Dispute evidence"
        DISPUTE = "dispute", "Dispute"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    provider_id = models.CharField(max_length=128)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "provider_id"], name="sandbox_object_once"),
        ]

    def __str__(self) -> str:
        return f"sandbox {self.kind} {self.provider_id}"
