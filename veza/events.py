"""Domain events for the outgoing webhooks, recorded in the transaction of the change.

A domain app calls ``emit("order.completed", order)`` inside the ``atomic`` block that makes
the change; the developer platform registers the recorder at start-up
(``DeveloperConfig.ready()``), which writes an outbox row in that same transaction and
delivers it once the transaction commits. A rollback takes the event with it, a commit
cannot lose it — and the domain apps never import the developer platform.
"""

from collections.abc import Callable
from typing import Any

EVENT_TYPES = (
    "track.ready",
    "track.deleted",
    "playlist.updated",
    "order.completed",
    "refund.succeeded",
    "refund.failed",
    "dispute.opened",
    "dispute.closed",
    "payout.paid",
    "payout.failed",
)

Recorder = Callable[[str, Any], None]
_recorder: Recorder | None = None


def register_recorder(recorder: Recorder | None) -> None:
    global _recorder
    _recorder = recorder


def emit(event_type: str, obj: Any) -> None:
    """Record that ``event_type`` happened to ``obj``. Call inside the change's transaction;
    for a deletion, before the row is deleted."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    if _recorder is not None:
        _recorder(event_type, obj)
