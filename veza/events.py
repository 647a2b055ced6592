"""Domain events for the outgoing webhooks, recorded in the transaction of the change.

A domain app calls ``emit("order.completed", order)`` inside the ``atomic`` block that makes
the change; the recorder named by the ``EVENT_RECORDER`` setting (the developer platform's
``developer.outbox.record_event``) writes an outbox row in that same transaction and
delivers it once the transaction commits. A rollback takes the event with it, a commit
cannot lose it — and the domain apps never import the developer platform. The recorder is
loaded at start-up (``VezaConfig.ready``): a missing one stops the process there, never
silently drops events.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

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


@cache
def recorder() -> Recorder:
    """The recorder of ``EVENT_RECORDER``; ImproperlyConfigured when it cannot be loaded."""
    path = getattr(settings, "EVENT_RECORDER", "")
    if not path:
        raise ImproperlyConfigured("EVENT_RECORDER names no recorder: events would be lost.")
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"EVENT_RECORDER {path!r} cannot be imported: {exc}") from exc


def emit(event_type: str, obj: Any) -> None:
    """Record that ``event_type`` happened to ``obj``. Call inside the change's transaction;
    for a deletion, before the row is deleted."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    recorder()(event_type, obj)
