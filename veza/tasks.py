"""Enqueueing helpers shared by the apps."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, **kwargs) -> None:
    """Send ``task`` once the current transaction commits (at once outside of one).

    A broker that is down must not turn a committed request into an error: the failure is
    logged, and the periodic jobs (reconciliation, clean-ups) catch up on what was missed.
    """

    def send() -> None:
        try:
            task.apply_async(kwargs=kwargs)
        except Exception:  # noqa: BLE001 - the broker's failure modes are many
            logger.exception("could not enqueue %s", task.name)

    transaction.on_commit(send)


def inside_transaction() -> bool:
    """True inside an ``atomic`` block of ours (a test case's wrapping block does not count)."""
    from django.db import connection

    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)
