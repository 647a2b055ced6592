"""The transactional outbox: record an event with its change, fan it out after commit.

``record_event`` runs inside the domain's transaction (through ``veza.events.emit``): the
row commits or rolls back with the change. Once committed, ``dispatch_event`` creates one
delivery per subscribed endpoint that may see it, and each delivery is sent by the worker.
``sweep`` (Celery beat, every minute) catches up on whatever a dead worker or a broker that
was down left behind: events never dispatched, deliveries due or whose claim expired.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from developer.events import describe
from developer.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from veza.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

# An event younger than this is left to the task its commit enqueued.
DISPATCH_GRACE = timedelta(seconds=60)
SWEEP_BATCH = 500


def record_event(event_type: str, obj) -> OutboxEvent:
    described = describe(obj)
    event = OutboxEvent.objects.create(
        type=event_type,
        data=described.data,
        public=described.public,
        audience=described.audience,
    )
    enqueue_on_commit("developer.tasks.dispatch_event", event_id=str(event.pk))
    return event


def subscribed_endpoints(event: OutboxEvent) -> list[WebhookEndpoint]:
    """Active endpoints subscribed to the event's type whose owner may see its object."""
    endpoints = WebhookEndpoint.objects.filter(is_active=True).only("id", "events", "owner_id")
    if not event.public:
        endpoints = endpoints.filter(owner_id__in=event.audience)
    return [endpoint for endpoint in endpoints if event.type in endpoint.events]


def dispatch_event(*, event_id, now=None) -> list[WebhookDelivery]:
    """One delivery per subscribed endpoint, once (the event row is locked and marked)."""
    now = now or timezone.now()
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.dispatched_at is not None:
            return []
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now)
            for endpoint in subscribed_endpoints(event)
        )
        event.dispatched_at = now
        event.save(update_fields=["dispatched_at"])
        for delivery in deliveries:
            enqueue_on_commit("developer.tasks.deliver", delivery_id=str(delivery.pk))
    return deliveries


def purge_delivered(*, now=None) -> int:
    """Forget events older than WEBHOOK_RETENTION_DAYS once nothing is left to send (their
    deliveries go with them); the delivery log covers that window."""
    now = now or timezone.now()
    old = OutboxEvent.objects.filter(
        created_at__lt=now - timedelta(days=settings.WEBHOOK_RETENTION_DAYS),
        dispatched_at__isnull=False,
    ).exclude(deliveries__status=WebhookDelivery.Status.PENDING)
    deleted, _ = OutboxEvent.objects.filter(pk__in=old.values("pk")).delete()
    return deleted


def sweep(*, now=None) -> dict[str, int]:
    """Re-queue what was left undelivered; safe to run while deliveries are in flight.

    ``now`` (tests) is handed on to the deliveries; the beat's sweep leaves them the clock.
    """
    at = now.isoformat() if now else None
    now = now or timezone.now()
    undispatched = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=now - DISPATCH_GRACE)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for event_id in undispatched:
        dispatch_event(event_id=event_id, now=now)
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for delivery_id in due:
        enqueue_on_commit("developer.tasks.deliver", delivery_id=str(delivery_id), at=at)
    if undispatched or due:
        logger.info(
            "webhook sweep: %d events dispatched, %d deliveries re-queued",
            len(undispatched),
            len(due),
        )
    return {"dispatched": len(undispatched), "requeued": len(due)}
