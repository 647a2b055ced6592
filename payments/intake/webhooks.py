"""Inbound Hyperswitch notifications: signature, parsing, deduplication, dispatch.

``receive`` is the one entry point, used by the HTTP view and by the sandbox provider.
"""

import hmac
import json
import logging
import math
from dataclasses import dataclass

from django.conf import settings

from payments import errors
from payments.models import Refund
from payments.providers import refund_status

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-webhook-signature-512"
PAYMENT_SUCCESS = {"succeeded", "success", "charged", "captured"}
PAYMENT_FAILURE = {"failed", "failure", "cancelled", "canceled", "declined", "expired"}
# The payment events that fail a pending order (a late one never undoes a completed order).
PAYMENT_FAILURE_EVENTS = {"payment_failed", "payment_cancelled", "payment_expired"}


def sign(raw_body: bytes, secret: str | None = None) -> str:
    key = (secret if secret is not None else settings.HYPERSWITCH_WEBHOOK_SECRET).encode()
    return hmac.digest(key, raw_body, "sha512").hex()  # one call into OpenSSL


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
        if event in PAYMENT_FAILURE_EVENTS or status in PAYMENT_FAILURE:
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
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # no database stores infinity or NaN as a JSON number
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


MAX_INT_DIGITS = 40


def _int_or_text(text: str) -> int | str:
    """A JSON integer; past 40 digits, its text (an unusable number, and Python's parser
    refuses more than 4300 digits)."""
    return int(text) if len(text.lstrip("-")) < MAX_INT_DIGITS else text


def _float_or_text(text: str) -> float | str:
    """A JSON number with a fraction or exponent; its text when it overflows a float
    (``1e999`` is infinity to Python, and no database stores infinity as a number)."""
    value = float(text)
    return value if math.isfinite(value) else text


def parse(raw_body: bytes) -> Notification:
    """Flat, nested (``object``) or Hyperswitch envelope (``content.object``) shapes.

    Whatever bytes a signed body holds, this either returns or raises ``MalformedWebhook``:
    invalid UTF-8, NaN or Infinity (not JSON) and nesting past the parser's are 400; a number
    that is JSON but no database stores (``1e999``, thousands of digits) is kept as its text,
    which no field that wants a number accepts.
    """
    try:
        payload = json.loads(
            raw_body,
            parse_constant=_refuse_constant,
            parse_int=_int_or_text,
            parse_float=_float_or_text,
        )
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
