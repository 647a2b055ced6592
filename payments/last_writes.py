"""The writes under a money transaction's hot row locks, run last, just before its commit.

A seller's balance row is locked by every sale, refund and dispute of that seller, and an
invoice series row by every document of its kind: whoever holds one makes all the others
wait. So a workflow reads and computes everything first (its own order's rows, its items,
the document's lines), then queues here the few writes that need those locks — the balances
(locked in primary-key order), their ledger entries, what depends on them, and the document's
number last — and the outermost ``last_writes()`` block runs them in the order they were
queued when it ends, after everything else of the transaction (the webhook's claim included).
The locks are then held for those statements and the commit only, and always taken in the
same order: the order's (taken first, by the workflow), then balances, then the series.

    with transaction.atomic(), last_writes():
        ...                      # reads, the order's own rows
        defer(move_the_money)    # runs at the end of the outermost block

Outside any ``last_writes()`` block, ``defer`` runs its write at once.
"""

import threading
from collections.abc import Callable
from contextlib import contextmanager

_local = threading.local()


@contextmanager
def last_writes():
    """Collect the deferred writes of this block (or of the enclosing one, which runs them)."""
    if getattr(_local, "queue", None) is not None:
        yield  # an enclosing block runs them, later
        return
    queue: list[Callable[[], object]] = []
    _local.queue = queue
    try:
        yield
        # A write may queue another (a workflow called from a deferred write): run them all.
        while queue:
            queue.pop(0)()
    finally:
        _local.queue = None


def defer(write: Callable[[], object]) -> None:
    """Run ``write`` at the end of the outermost ``last_writes()`` block, or now without one."""
    queue = getattr(_local, "queue", None)
    if queue is None:
        write()
    else:
        queue.append(write)
