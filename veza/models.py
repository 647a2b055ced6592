"""The shared toolkit's one table: the receipts of task effects that must not happen twice."""

from django.db import models


class TaskEffect(models.Model):
    """An outside effect of a task (an email sent) keyed by the task's id: a task redelivered
    after its worker died (acks_late) finds the receipt and does not repeat the effect."""

    key = models.CharField(max_length=255, unique=True)
    done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.key
