"""Thin Celery wrappers: the outbox's fan-out, one delivery attempt, the sweeper."""

from celery import shared_task
from django.utils.dateparse import parse_datetime

from developer import delivery, outbox


@shared_task
def dispatch_event(*, event_id: str) -> int:
    return len(outbox.dispatch_event(event_id=event_id))


@shared_task
def deliver(*, delivery_id: str, at: str | None = None) -> str | None:
    done = delivery.deliver(delivery_id=delivery_id, now=parse_datetime(at) if at else None)
    return done.status if done else None


@shared_task
def sweep_outbox() -> dict[str, int]:
    return outbox.sweep()


@shared_task
def purge_delivered_events() -> int:
    return outbox.purge_delivered()
