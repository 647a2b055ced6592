"""Full Hyperswitch webhook bodies (its ``OutgoingWebhook`` envelope), one per event type.

Each body carries the whole object Hyperswitch sends — ``PaymentsResponse``,
``RefundResponse``, ``DisputeResponse`` or ``PayoutCreateResponse`` — with its many fields,
not the two or three we read; ``tests/hyperswitch/test_spec.py`` holds every one of them
against the vendored schemas. Build one with ids of your rows (``refund_body(...)``) or take a
ready one from ``BODIES``; ``signed_post(client, body)`` posts it signed, as Hyperswitch does.
"""

import hashlib
import hmac
import json

MERCHANT_ID = "merchant_1668273825"
PROFILE_ID = "pro_2WzEeYhY3z5Mu9aYbEeq"
CONNECTOR_ID = "mca_sAD3OZLATetvjLOYhUSy"
WEBHOOK_URL = "/api/v1/webhooks/hyperswitch"

PAYMENT_EVENTS = {
    "payment_succeeded": "succeeded",
    "payment_failed": "failed",
    "payment_cancelled": "cancelled",
    "payment_expired": "expired",
}
REFUND_EVENTS = {"refund_succeeded": "succeeded", "refund_failed": "failed"}
DISPUTE_EVENTS = {
    "dispute_opened": "dispute_opened",
    "dispute_challenged": "dispute_challenged",
    "dispute_won": "dispute_won",
    "dispute_lost": "dispute_lost",
    "dispute_accepted": "dispute_accepted",
    "dispute_cancelled": "dispute_cancelled",
    "dispute_expired": "dispute_expired",
}
PAYOUT_EVENTS = {
    "payout_success": "success",
    "payout_failed": "failed",
    "payout_cancelled": "cancelled",
    "payout_expired": "expired",
    "payout_reversed": "reversed",
    "payout_initiated": "initiated",
    "payout_processing": "pending",
}


def envelope(event_type: str, content_type: str, obj: dict, *, event_id: str) -> dict:
    return {
        "merchant_id": MERCHANT_ID,
        "event_id": event_id,
        "event_type": event_type,
        "content": {"type": content_type, "object": obj},
        "timestamp": "2025-01-06T10:15:02.123Z",
    }


def payment_object(*, payment_id: str, status: str, amount: int = 1200, currency="EUR") -> dict:
    failed = status in ("failed", "cancelled", "expired")
    return {
        "payment_id": payment_id,
        "merchant_id": MERCHANT_ID,
        "status": status,
        "amount": amount,
        "net_amount": amount,
        "shipping_cost": None,
        "amount_capturable": 0 if status == "succeeded" else amount,
        "amount_received": amount if status == "succeeded" else None,
        "processor_merchant_id": MERCHANT_ID,
        "initiator": None,
        "connector": "stripe",
        "client_secret": f"{payment_id}_secret_el9ksDkiB8hi6j9N78yo",
        "created": "2025-01-06T10:00:00.000Z",
        "modified_at": "2025-01-06T10:15:00.000Z",
        "currency": currency,
        "customer_id": "cus_y3oqhf46pyzuxjbcn2giaqnb44",
        "customer": None,
        "description": "Veza order",
        "refunds": None,
        "disputes": None,
        "capture_method": "automatic",
        "payment_method": "card",
        "return_url": "https://veza.example/checkout/return",
        "cancellation_reason": "requested_by_customer" if status == "cancelled" else None,
        "error_code": "card_declined" if failed else None,
        "metadata": {"order_id": "00000000-0000-0000-0000-000000000000"},
        "profile_id": PROFILE_ID,
        "attempt_count": 1,
        "expires_on": "2025-01-06T10:15:00.000Z",
        "payment_method_id": None,
        "updated": "2025-01-06T10:15:00.000Z",
        "merchant_order_reference_id": None,
    }


def refund_object(
    *, refund_id: str, payment_id: str, status: str, amount: int = 1200, currency="EUR"
) -> dict:
    return {
        "refund_id": refund_id,
        "payment_id": payment_id,
        "amount": amount,
        "currency": currency,
        "status": status,
        "reason": "Buyer asked for a refund",
        "metadata": {"order_id": "00000000-0000-0000-0000-000000000000"},
        "error_message": "Insufficient balance in merchant account" if status == "failed" else None,
        "error_code": "balance_insufficient" if status == "failed" else None,
        "unified_code": None,
        "unified_message": None,
        "created_at": "2025-01-06T10:00:00.000Z",
        "updated_at": "2025-01-06T10:05:00.000Z",
        "connector": "stripe",
        "profile_id": PROFILE_ID,
        "merchant_connector_id": CONNECTOR_ID,
        "split_refunds": None,
        "issuer_error_code": None,
        "issuer_error_message": None,
        "raw_connector_response": None,
    }


def dispute_object(
    *,
    dispute_id: str,
    payment_id: str,
    dispute_status: str,
    amount: int = 1200,
    currency="EUR",
    dispute_stage: str = "dispute",
) -> dict:
    return {
        "dispute_id": dispute_id,
        "payment_id": payment_id,
        "attempt_id": f"{payment_id}_1",
        "amount": str(amount),  # StringMinorUnit: minor units as a string
        "currency": currency,
        "dispute_stage": dispute_stage,
        "dispute_status": dispute_status,
        "connector": "stripe",
        "connector_status": "needs_response",
        "connector_dispute_id": f"dp_{dispute_id}",
        "connector_reason": "fraudulent",
        "connector_reason_code": "10.4",
        "challenge_required_by": "2025-01-20T23:59:59.000Z",
        "connector_created_at": "2025-01-06T09:00:00.000Z",
        "connector_updated_at": "2025-01-06T09:30:00.000Z",
        "created_at": "2025-01-06T09:31:00.000Z",
        "profile_id": PROFILE_ID,
        "merchant_connector_id": CONNECTOR_ID,
    }


def payout_object(
    *,
    payout_id: str,
    status: str,
    amount: int = 1800,
    currency="EUR",
    customer_id: str = "cus_seller",
    payout_method_id: str | None = None,
) -> dict:
    failed = status in ("failed", "cancelled", "expired", "ineligible")
    return {
        "payout_id": payout_id,
        "merchant_id": MERCHANT_ID,
        "merchant_order_reference_id": None,
        "amount": amount,
        "currency": currency,
        "connector": "adyenplatform",
        "payout_type": "bank",
        "payout_method_data": None,
        "billing": None,
        "auto_fulfill": True,
        "customer_id": customer_id,
        "customer": None,
        "client_secret": f"{payout_id}_secret_7RAbTfxZ1ydQGsDuw2lq",
        "return_url": "https://veza.example/payouts/return",
        "business_country": "FR",
        "business_label": None,
        "description": f"Veza payout {payout_id}",
        "entity_type": "Individual",
        "recurring": False,
        "metadata": {"seller_id": customer_id},
        "merchant_connector_id": CONNECTOR_ID,
        "status": status,
        "error_message": "Bank account closed" if failed else None,
        "error_code": "account_closed" if failed else None,
        "profile_id": PROFILE_ID,
        "created": "2025-01-06T06:00:00.000Z",
        "connector_transaction_id": "S3FC9G9M2MVFDXT5",
        "priority": None,
        "attempts": None,
        "payout_link": None,
        "email": None,
        "name": None,
        "phone": None,
        "phone_country_code": None,
        "unified_code": None,
        "unified_message": None,
        "payout_method_id": payout_method_id,
    }


def payment_body(event_type: str, *, payment_id: str, event_id: str | None = None, **kw) -> dict:
    obj = payment_object(payment_id=payment_id, status=PAYMENT_EVENTS[event_type], **kw)
    return envelope(
        event_type, "payment_details", obj, event_id=event_id or f"evt_{event_type}_{payment_id}"
    )


def refund_body(
    event_type: str, *, refund_id: str, payment_id: str, event_id: str | None = None, **kw
) -> dict:
    obj = refund_object(
        refund_id=refund_id, payment_id=payment_id, status=REFUND_EVENTS[event_type], **kw
    )
    return envelope(
        event_type, "refund_details", obj, event_id=event_id or f"evt_{event_type}_{refund_id}"
    )


def dispute_body(
    event_type: str, *, dispute_id: str, payment_id: str, event_id: str | None = None, **kw
) -> dict:
    obj = dispute_object(
        dispute_id=dispute_id,
        payment_id=payment_id,
        dispute_status=DISPUTE_EVENTS[event_type],
        **kw,
    )
    return envelope(
        event_type, "dispute_details", obj, event_id=event_id or f"evt_{event_type}_{dispute_id}"
    )


def payout_body(
    event_type: str,
    *,
    payout_id: str,
    status: str | None = None,
    event_id: str | None = None,
    **kw,
) -> dict:
    obj = payout_object(payout_id=payout_id, status=status or PAYOUT_EVENTS[event_type], **kw)
    return envelope(
        event_type,
        "payout_details",
        obj,
        event_id=event_id or f"evt_{event_type}_{obj['status']}_{payout_id}",
    )


PAYMENT_ID = "pay_mbabizu24mvu3mela5njyhpit4"
REFUND_ID = "ref_mbabizu24mvu3mela5njyhpit4"
DISPUTE_ID = "dp_mbabizu24mvu3mela5njyhpit4"
PAYOUT_ID = "payout_mbabizu24mvu3mela5njyh"

# One ready body per event type, plus the two payout statuses with their own meaning.
BODIES: dict[str, dict] = {
    **{e: payment_body(e, payment_id=PAYMENT_ID) for e in PAYMENT_EVENTS},
    **{e: refund_body(e, refund_id=REFUND_ID, payment_id=PAYMENT_ID) for e in REFUND_EVENTS},
    **{e: dispute_body(e, dispute_id=DISPUTE_ID, payment_id=PAYMENT_ID) for e in DISPUTE_EVENTS},
    **{e: payout_body(e, payout_id=PAYOUT_ID) for e in PAYOUT_EVENTS},
    "payout_failed_ineligible": payout_body(
        "payout_failed", payout_id=PAYOUT_ID, status="ineligible"
    ),
    "payout_failed_requires_payout_method_data": payout_body(
        "payout_failed", payout_id=PAYOUT_ID, status="requires_payout_method_data"
    ),
}

# The schema each body's ``content.object`` is an instance of.
OBJECT_SCHEMAS = {
    "payment_details": "PaymentsResponse",
    "refund_details": "RefundResponse",
    "dispute_details": "DisputeResponse",
    "payout_details": "PayoutCreateResponse",
}


def signature(raw: bytes, secret: str | None = None) -> str:
    """``x-webhook-signature-512``: lowercase hex HMAC-SHA512 of the raw body."""
    from django.conf import settings

    key = (secret if secret is not None else settings.HYPERSWITCH_WEBHOOK_SECRET).encode()
    return hmac.new(key, raw, hashlib.sha512).hexdigest()


def signed_post(client, body: dict):
    """POST ``body`` to the inbound webhook, signed with HYPERSWITCH_WEBHOOK_SECRET."""
    raw = json.dumps(body).encode()
    return client.generic(
        "POST",
        WEBHOOK_URL,
        raw,
        content_type="application/json",
        HTTP_X_WEBHOOK_SIGNATURE_512=signature(raw),
    )
