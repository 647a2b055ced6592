"""At most one outside effect per task delivery, across redeliveries (README "Scaling out").

Tasks are acknowledged late: a worker SIGKILLed mid-task has its message delivered again to
another worker. Database writes are safe to repeat (each task's own unique key or state
check); an email is not. ``once(key)`` claims the key with a UNIQUE row before the effect and
marks it done after: a redelivery of a finished task skips the effect. Only a worker killed
between the effect and the mark (microseconds after the mail server said yes) repeats it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from celery import current_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from veza.models import TaskEffect


def task_effect_key(*parts: str) -> str | None:
    """A key naming this effect of the task being run, stable across its redeliveries; None
    outside a task (a direct call: nothing is redelivered)."""
    task = current_task
    task_id = getattr(getattr(task, "request", None), "id", None) if task else None
    if not task_id:
        return None
    return ":".join((task_id, *parts))[:255]


@contextmanager
def once(key: str | None) -> Iterator[bool]:
    """``with once(key) as first:`` -- ``first`` is False when the effect was already done."""
    if key is None:
        yield True
        return
    try:
        with transaction.atomic():
            TaskEffect.objects.create(key=key)
    except IntegrityError:
        if TaskEffect.objects.filter(key=key, done=True).exists():
            yield False
            return
        # Claimed but never marked: the previous delivery died during the effect; do it again.
    yield True
    TaskEffect.objects.filter(key=key).update(done=True)


def purge_task_effects(*, older_than: timedelta) -> int:
    """Receipts outlive any redelivery (the broker's visibility timeout) by far; then go."""
    deleted, _ = TaskEffect.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
