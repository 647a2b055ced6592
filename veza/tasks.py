"""Enqueueing helpers shared by the apps."""

import logging
from datetime import timedelta

from celery import current_app, shared_task
from django.conf import settings
from django.db import transaction

from veza.effects import purge_task_effects as purge_effects

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, **kwargs) -> None:
    """Send ``task`` once the current transaction commits (at once outside of one).

    ``task`` is a Celery task or its registered name: a module that the task's own module
    imports enqueues it by name, so that no import runs in a circle.

    A broker that is down must not turn a committed request into an error: the failure is
    logged, and the periodic jobs (reconciliation, clean-ups) catch up on what was missed.
    """

    def send() -> None:
        try:
            (_registered(task) if isinstance(task, str) else task).apply_async(kwargs=kwargs)
        except Exception:  # noqa: BLE001 - the broker's failure modes are many
            logger.exception("could not enqueue %s", task)

    transaction.on_commit(send)


def _registered(name: str):
    """The task registered under ``name``, so that eager mode and routing apply as usual.

    A web process imports task modules only when something needs them: the first lookup of
    an unknown name runs Celery's autodiscovery of every app's ``tasks`` module.
    """
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def inside_transaction() -> bool:
    """True inside an ``atomic`` block of ours (a test case's wrapping block does not count)."""
    from django.db import connection

    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


@shared_task
def purge_task_effects() -> int:
    """Beat: forget effect receipts long after any redelivery could need them."""
    return purge_effects(older_than=timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT) * 8)
