"""The one entry point of provider notifications (the HTTP view and the sandbox's task):
signature, parsing, deduplication on ``event_id``, the claim, and the stored outcome."""

import hashlib
import logging
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.selectors import note_signature_failure
from payments import errors
from payments.intake.dispatch import dispatch
from payments.intake.webhooks import Notification, parse, storable, verify_signature
from payments.last_writes import last_writes
from payments.metrics import webhook_events, webhook_signature_failures
from payments.models import EventOutcome, WebhookEvent

logger = logging.getLogger(__name__)


@dataclass
class Receipt:
    status_code: int
    body: dict


def receive(
    *, raw_body: bytes, signature: str | None, remote_addr: str | None = None, source="webhook"
) -> Receipt:
    if not verify_signature(raw_body, signature):
        webhook_signature_failures.inc()
        note_signature_failure(remote_addr)
        logger.warning("webhook refused: bad or missing signature from %s", remote_addr)
        raise errors.InvalidSignature()
    try:
        note = parse(raw_body)
    except errors.MalformedWebhook:
        _store_unprocessable(raw_body, remote_addr, source, "malformed body")
        raise
    if note.is_dispute:
        kind = WebhookEvent.Kind.DISPUTE
    elif note.is_payout:
        kind = WebhookEvent.Kind.PAYOUT
    elif note.is_refund:
        kind = WebhookEvent.Kind.REFUND
    else:
        kind = WebhookEvent.Kind.PAYMENT
    if kind == WebhookEvent.Kind.REFUND and not (note.refund_id or note.metadata_refund_id):
        _store(
            note, kind, EventOutcome.ERROR, "refund event without a refund id", remote_addr, source
        )
        raise errors.MalformedWebhook("A refund event must carry a refund id.")
    if kind == WebhookEvent.Kind.PAYMENT and not note.payment_id:
        _store(
            note,
            kind,
            EventOutcome.IGNORED,
            "payment event without a payment id",
            remote_addr,
            source,
        )
        return Receipt(200, {"status": EventOutcome.IGNORED})

    event_key = _dedup_key(note.event_id)
    # A replay (same event_id) is recognised by one UPDATE that counts it on the stored event:
    # no transaction, no failing INSERT, no row per duplicate.
    if event_key is not None and _count_redelivery(event_key):
        outcome = EventOutcome.DUPLICATE
        webhook_events.labels(kind=kind, outcome=outcome).inc()
        return Receipt(200, {"status": outcome})

    try:
        # The workflow's hot-lock writes (seller balances, a document's number) run at the
        # end of this block, after the claim: just before the commit (payments.last_writes).
        with transaction.atomic(), last_writes():
            event = WebhookEvent(
                event_id=event_key,
                **_fields(note, kind, remote_addr, source),
                outcome=EventOutcome.PROCESSED,
            )
            event.outcome, event.detail = dispatch(note, kind, event)
            # The claim comes after the workflow, with the outcome (only the workflow's last
            # writes follow it): one INSERT, refused by the UNIQUE index when a concurrent
            # delivery of this event_id committed first (the INSERT waits for it). The
            # refusal rolls back all that this delivery did, so whatever it found under its
            # locks, the event is applied once. No savepoint: the refusal aborts the whole
            # transaction.
            _claim(event)
        outcome = event.outcome
    except _AlreadyClaimed as claim:
        # A concurrent first delivery won the claim after our UPDATE found nothing; its row
        # is committed now, so this one is counted on it.
        if not _count_redelivery(event_key):
            exc = claim.__cause__  # no such event after all: the INSERT failed otherwise
            logger.error("webhook processing failed: %s", exc)
            _store(
                note, kind, EventOutcome.ERROR, f"IntegrityError: {exc}"[:2000], remote_addr, source
            )
            raise exc from None
        outcome = EventOutcome.DUPLICATE
    except Exception as exc:
        # Nothing was applied (the transaction rolled back, the event_id stays free): answer
        # 500 so that the provider delivers it again, and keep a trace for staff.
        logger.exception("webhook processing failed")
        _store(
            note,
            kind,
            EventOutcome.ERROR,
            f"{type(exc).__name__}: {exc}"[:2000],
            remote_addr,
            source,
        )
        raise
    webhook_events.labels(kind=kind, outcome=outcome).inc()
    return Receipt(200, {"status": outcome})


class _AlreadyClaimed(Exception):
    """Another delivery of this event_id was stored first."""


def _claim(event: WebhookEvent) -> None:
    try:
        event.save(force_insert=True)
    except IntegrityError as exc:
        if event.event_id is None:
            raise
        raise _AlreadyClaimed() from exc


def _count_redelivery(event_key: str) -> bool:
    """Add one delivery to the stored event with this key; False when there is none.

    Every replay runs this and nothing else, so it is one prepared, portable statement:
    building the same ``filter().update(F() + 1)`` through the ORM on each call was a third
    of a replay's CPU time (profiled). The timestamp is adapted by its field, as the ORM would.
    """
    delivered_at = WebhookEvent._meta.get_field("last_delivered_at")
    with connection.cursor() as cursor:
        cursor.execute(
            _redelivery_sql(connection),
            [delivered_at.get_db_prep_value(timezone.now(), connection), event_key],
        )
        return cursor.rowcount > 0


_REDELIVERY_SQL: dict[str, str] = {}


def _redelivery_sql(conn) -> str:
    sql = _REDELIVERY_SQL.get(conn.vendor)
    if sql is None:
        meta, quote = WebhookEvent._meta, conn.ops.quote_name
        table = quote(meta.db_table)
        deliveries, delivered_at, event_id = (
            quote(meta.get_field(name).column)
            for name in ("deliveries", "last_delivered_at", "event_id")
        )
        # Names from the model's metadata; every value is a parameter.
        sql = _REDELIVERY_SQL[conn.vendor] = (
            f"UPDATE {table} SET {deliveries} = {deliveries} + 1, "  # noqa: S608
            f"{delivered_at} = %s WHERE {event_id} = %s"
        )
    return sql


def _dedup_key(event_id: str) -> str | None:
    """The event id as stored for deduplication; an over-long one by its digest."""
    if not event_id:
        return None
    if len(event_id) <= 128:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()


def _fields(note: Notification, kind: str, remote_addr, source) -> dict:
    return {
        "provider_event_id": note.event_id[:128],
        "event_type": note.event_type[:64],
        "kind": kind,
        "payment_id": note.payment_id[:128],
        "refund_ref": (note.refund_id or note.metadata_refund_id)[:128],
        "status": note.status[:32],
        "payload": note.payload,
        "remote_addr": remote_addr,
        "source": source,
    }


def _store(
    note: Notification, kind: str, outcome: EventOutcome, detail: str, remote_addr, source
) -> None:
    WebhookEvent.objects.create(
        **_fields(note, kind, remote_addr, source), outcome=outcome, detail=storable(detail)
    )
    webhook_events.labels(kind=kind, outcome=outcome).inc()


def _store_unprocessable(raw_body: bytes, remote_addr, source, detail: str) -> None:
    WebhookEvent.objects.create(
        payload={"raw": storable(raw_body[:4000].decode("utf-8", "replace"))},
        outcome=EventOutcome.ERROR,
        detail=detail,
        remote_addr=remote_addr,
        source=source,
    )
    webhook_events.labels(kind=WebhookEvent.Kind.UNKNOWN, outcome=EventOutcome.ERROR).inc()
