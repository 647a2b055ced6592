"""Staff's internal notes: written once, never edited nor deleted."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from payments.models.disputes import Dispute
from payments.models.ledger import AppendOnlyQuerySet
from payments.models.payouts import Payout
from payments.models.refunds import Refund


class InternalNote(models.Model):
    """Staff's internal note: written once, never edited nor deleted (each one is audited).
    No change or delete permission exists for it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["created_at"]
        default_permissions = ("add", "view")

    def __str__(self) -> str:
        return self.text[:60]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Internal notes are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Internal notes are never deleted.")


class RefundNote(InternalNote):
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="notes")

    class Meta(InternalNote.Meta):
        pass


class PayoutNote(InternalNote):
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="notes")

    class Meta(InternalNote.Meta):
        pass


class DisputeNote(InternalNote):
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="notes")

    class Meta(InternalNote.Meta):
        pass
