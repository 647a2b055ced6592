"""Inbound Hyperswitch notifications: signature, parsing, deduplication, dispatch.

``receive`` is the one entry point, used by the HTTP view and by the sandbox provider.
"""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.selectors import note_signature_failure
from payments import disputes, errors, payouts
from payments.checkout import apply_payment_status
from payments.metrics import webhook_events, webhook_signature_failures
from payments.models import EventOutcome, Refund, WebhookEvent
from payments.providers import payout_event_status, refund_status
from payments.services import apply_refund_status

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-webhook-signature-512"
PAYMENT_SUCCESS = {"succeeded", "success", "charged", "captured"}
PAYMENT_FAILURE = {"failed", "failure", "cancelled", "canceled", "declined"}


def sign(raw_body: bytes, secret: str | None = None) -> str:
    key = (secret if secret is not None else settings.HYPERSWITCH_WEBHOOK_SECRET).encode()
    return hmac.new(key, raw_body, hashlib.sha512).hexdigest()


def verify_signature(raw_body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    # Lowercase hex exactly, compared in constant time.
    return hmac.compare_digest(sign(raw_body).encode(), signature.strip().encode())


@dataclass
class Notification:
    event_id: str
    event_type: str
    payment_id: str
    refund_id: str
    metadata_refund_id: str
    payout_id: str
    status: str
    error_message: str
    payload: dict
    object: dict

    @property
    def is_dispute(self) -> bool:
        return self.event_type.lower().startswith("dispute") or isinstance(
            self.object.get("dispute_id"), str
        )

    @property
    def is_payout(self) -> bool:
        return self.event_type.lower().startswith("payout_") or bool(self.payout_id)

    @property
    def is_refund(self) -> bool:
        return "refund" in self.event_type.lower() or bool(
            self.refund_id or self.metadata_refund_id
        )

    @property
    def refund_status(self) -> Refund.Status:
        """Ours, translated from ``status`` or, without one, from the event type."""
        if self.status:
            return refund_status(self.status)
        event = self.event_type.lower()
        if event.endswith("succeeded") or event.endswith("success"):
            return Refund.Status.SUCCEEDED
        if event.endswith("failed") or event.endswith("failure"):
            return Refund.Status.FAILED
        return Refund.Status.PENDING

    @property
    def payment_succeeded(self) -> bool | None:
        event = self.event_type.lower()
        status = self.status.lower()
        if event == "payment_succeeded" or status in PAYMENT_SUCCESS:
            return True
        if event == "payment_failed" or status in PAYMENT_FAILURE:
            return False
        return None


MAX_STORED_DEPTH = 32
MAX_TEXT = 256


def storable(text: str) -> str:
    """A string PostgreSQL always accepts: no NUL, no lone surrogate."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _text(value) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        value = str(value) if abs(value) < 10**40 else ""
    return storable(value.strip())[:MAX_TEXT] if isinstance(value, str) else ""


def _sanitised(value, depth: int = 0):
    """A copy of a JSON value that PostgreSQL's jsonb stores whatever the provider sent."""
    if depth > MAX_STORED_DEPTH:
        return "…(nested too deep)"
    if isinstance(value, dict):
        return {storable(str(k)): _sanitised(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_sanitised(v, depth + 1) for v in value]
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        return str(value)
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse(raw_body: bytes) -> Notification:
    """Flat, nested (``object``) or Hyperswitch envelope (``content.object``) shapes.

    Whatever bytes a signed body holds, this either returns or raises ``MalformedWebhook``:
    invalid UTF-8, NaN, numbers past Python's limits and nesting past the parser's are 400.
    """
    try:
        payload = json.loads(raw_body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise errors.MalformedWebhook("The webhook body is not valid JSON.") from exc
    if not isinstance(payload, dict):
        raise errors.MalformedWebhook()
    # Everything below reads the sanitised copy: no NUL or lone surrogate reaches a query.
    payload = _sanitised(payload)
    obj = payload
    content = payload.get("content")
    if isinstance(content, dict) and isinstance(content.get("object"), dict):
        obj = content["object"]
    elif isinstance(payload.get("object"), dict):
        obj = payload["object"]
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}

    def pick(key: str) -> str:
        return _text(obj.get(key)) or _text(payload.get(key))

    return Notification(
        event_id=_text(payload.get("event_id")),
        event_type=_text(payload.get("event_type")) or _text(obj.get("event_type")),
        payment_id=pick("payment_id"),
        refund_id=pick("refund_id"),
        metadata_refund_id=_text(metadata.get("refund_id")),
        payout_id=pick("payout_id"),
        status=pick("status"),
        error_message=pick("error_message") or _text(obj.get("refund_error_message")),
        payload=payload,
        object=obj,
    )


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
        _store(note, kind, "error", "refund event without a refund id", remote_addr, source)
        raise errors.MalformedWebhook("A refund event must carry a refund id.")
    if kind == WebhookEvent.Kind.PAYMENT and not note.payment_id:
        _store(note, kind, "ignored", "payment event without a payment id", remote_addr, source)
        return Receipt(200, {"status": "ignored"})

    event_key = _dedup_key(note.event_id)
    # A replay (same event_id) is recognised by one UPDATE that counts it on the stored event:
    # no transaction, no failing INSERT, no row per duplicate.
    if event_key is not None and _count_redelivery(event_key):
        outcome = EventOutcome.DUPLICATE
        webhook_events.labels(kind=kind, outcome=outcome).inc()
        return Receipt(200, {"status": outcome})

    try:
        with transaction.atomic():
            event = WebhookEvent(
                event_id=event_key,
                **_fields(note, kind, remote_addr, source),
                outcome=EventOutcome.PROCESSED,
            )
            event.outcome, event.detail = _dispatch(note, kind, event)
            # The claim comes last, with the outcome: one INSERT, refused by the UNIQUE index
            # when a concurrent delivery of this event_id committed first (the INSERT waits
            # for it). The refusal rolls back all that this delivery did, so whatever it
            # found under its locks, the event is applied once. No savepoint: the refusal
            # aborts the whole transaction.
            _claim(event)
        outcome = event.outcome
    except _AlreadyClaimed as claim:
        # A concurrent first delivery won the claim after our UPDATE found nothing; its row
        # is committed now, so this one is counted on it.
        if not _count_redelivery(event_key):
            exc = claim.__cause__  # no such event after all: the INSERT failed otherwise
            logger.error("webhook processing failed: %s", exc)
            _store(note, kind, "error", f"IntegrityError: {exc}"[:2000], remote_addr, source)
            raise exc from None
        outcome = EventOutcome.DUPLICATE
    except Exception as exc:
        # Nothing was applied (the transaction rolled back, the event_id stays free): answer
        # 500 so that the provider delivers it again, and keep a trace for staff.
        logger.exception("webhook processing failed")
        _store(note, kind, "error", f"{type(exc).__name__}: {exc}"[:2000], remote_addr, source)
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


def _dispatch(note: Notification, kind: str, event: WebhookEvent) -> tuple[str, str]:
    if kind == WebhookEvent.Kind.DISPUTE:
        outcome, dispute, detail = disputes.apply_dispute_event(
            disputes.event_from(event_type=note.event_type, obj=note.object)
        )
        event.order_id = dispute.order_id if dispute else None
        return outcome, detail
    if kind == WebhookEvent.Kind.PAYOUT:
        outcome, payout = payouts.apply_payout_event(
            payout_id=note.payout_id,
            status=payout_event_status(note.event_type, note.status),
            error_message=note.error_message,
        )
        return outcome, f"payout {note.payout_id or '?'} → {payout.status if payout else '?'}"
    if kind == WebhookEvent.Kind.REFUND:
        outcome, refund = apply_refund_status(
            provider_refund_id=note.refund_id or None,
            refund_id=note.metadata_refund_id or None,
            status=note.refund_status,
            error_message=note.error_message,
        )
        event.refund = refund
        event.order_id = refund.order_id if refund else None
        detail = {
            EventOutcome.PROCESSED: f"refund → {refund.status}" if refund else "",
            EventOutcome.DUPLICATE: "refund already terminal",
            EventOutcome.IGNORED: "unknown refund"
            if refund is None
            else f"status {note.status or note.event_type!r}",
        }[outcome]
        return outcome, detail
    succeeded = note.payment_succeeded
    if succeeded is None:
        return EventOutcome.IGNORED, f"payment status {note.status or note.event_type!r}"
    outcome, order = apply_payment_status(payment_id=note.payment_id, succeeded=succeeded)
    event.order = order
    detail = {
        EventOutcome.PROCESSED: f"order → {order.status}" if order else "",
        EventOutcome.DUPLICATE: "order already settled",
        EventOutcome.IGNORED: "unknown payment",
    }[outcome]
    return outcome, detail


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


def _store(note: Notification, kind: str, outcome: str, detail: str, remote_addr, source) -> None:
    WebhookEvent.objects.create(
        **_fields(note, kind, remote_addr, source), outcome=outcome, detail=detail
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
    webhook_events.labels(kind="unknown", outcome="error").inc()
