"""What the account rights keep: data exports (the ZIP's whereabouts) and, for staff, the
accounts waiting for their erasure."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import User


class DataExport(models.Model):
    """One ZIP of everything a user gave or made: built by a task, downloadable through a
    signed link until ``expires_at``, then its file is deleted by a periodic job."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        EXPIRED = "expired", "Expired"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent built.")
    # The storage name of the ZIP (Django's default storage: local disk or the object store).
    file = models.CharField(max_length=500, blank=True)
    size = models.BigIntegerField(default=0, help_text="Bytes.")
    failure_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One export being built per user, whatever races the API: the database says no.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="export_one_pending_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.status})"

    def status_at(self, now) -> str:
        """``ready`` turns ``expired`` at ``expires_at``, before the clean-up job runs."""
        if self.status == self.Status.READY and self.expires_at and self.expires_at <= now:
            return self.Status.EXPIRED
        return self.status


class PendingErasure(User):
    """The accounts whose erasure is scheduled, as staff see them in the admin (read-only)."""

    class Meta:
        proxy = True
        verbose_name = "pending erasure"
        verbose_name_plural = "pending erasures"
