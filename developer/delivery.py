"""Sending one delivery, signed per the Standard Webhooks specification.

Headers ``webhook-id`` (the delivery's id: the same on every retry, so a receiver can
deduplicate), ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`` keyed with the endpoint's decoded secret (the ``standardwebhooks``
package signs). At least once, never in order: a delivery is claimed by moving its
``next_attempt_at`` a lease ahead, so a worker that dies mid-send leaves it to the sweeper.
"""

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from audit.services import record
from developer import targets
from developer.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from veza.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
# Wait after the n-th failed attempt: 8 tries over about 27 hours (Standard Webhooks'
# suggested schedule, in minutes at the sweeper's granularity), each ±10 % of jitter.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1
# Long enough for one attempt (connect + 10 s + the body); then the sweeper may retry.
CLAIM_LEASE = timedelta(seconds=60)
DISABLE_AFTER = timedelta(days=3)


@dataclass(frozen=True)
class AttemptResult:
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str = ""


def retry_delay(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed attempts, with jitter."""
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * (1 + random.uniform(-JITTER, JITTER))


def body_of(delivery: WebhookDelivery) -> str:
    event = delivery.event
    return json.dumps(
        {"type": event.type, "timestamp": event.created_at.isoformat(), "data": event.data},
        separators=(",", ":"),
        sort_keys=True,
    )


def signed_headers(*, secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body),
    }


def _address_url(target: targets.Target, url: str) -> str:
    """``url`` with its host replaced by the checked address: the name is not resolved
    again between the check and the connection."""
    address = target.addresses[0]
    host = f"[{address}]" if address.version == 6 else str(address)
    rest = url.split("://", 1)[1]
    path = rest[rest.find("/") :] if "/" in rest else "/"
    return f"{target.scheme}://{host}:{target.port}{path}"


def send(delivery: WebhookDelivery, *, at: datetime) -> AttemptResult:
    """One HTTP attempt; never raises. Runs outside any transaction."""
    endpoint = delivery.endpoint
    body = body_of(delivery)
    started = time.monotonic()

    def result(ok: bool, status_code: int | None, error: str = "") -> AttemptResult:
        return AttemptResult(ok, status_code, int((time.monotonic() - started) * 1000), error)

    try:
        target = targets.resolve(endpoint.url)
    except targets.TargetRefused as exc:
        return result(False, None, exc.detail)
    default_port = 443 if target.scheme == "https" else 80
    headers = {
        **signed_headers(secret=endpoint.secret, message_id=delivery.message_id, body=body, at=at),
        "content-type": "application/json",
        "user-agent": f"Veza-Webhooks/{settings.VERSION}",
        "host": target.host if target.port == default_port else f"{target.host}:{target.port}",
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        # trust_env=False: no proxy from the environment; redirects are answers, not orders.
        with (
            httpx.Client(
                timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
            ) as client,
            client.stream(
                "POST",
                _address_url(target, endpoint.url),
                content=body.encode(),
                headers=headers,
                extensions=extensions,
            ) as response,
        ):
            read = 0
            for chunk in response.iter_bytes():
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES or time.monotonic() - started > TIMEOUT_SECONDS:
                    break
            ok = 200 <= response.status_code < 300
            error = "" if ok else f"HTTP {response.status_code}"
            if 300 <= response.status_code < 400:
                error += " (redirects are not followed)"
            return result(ok, response.status_code, error)
    except httpx.TimeoutException:
        return result(False, None, f"No answer within {TIMEOUT_SECONDS:g} s.")
    except httpx.HTTPError as exc:
        return result(False, None, f"{type(exc).__name__}: {exc}"[:500])


def claim(*, delivery_id, now: datetime) -> bool:
    """Take a due delivery for one attempt (a lease, not a lock held during the send)."""
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + CLAIM_LEASE)
    )


def deliver(*, delivery_id, now: datetime | None = None) -> WebhookDelivery | None:
    """Attempt a due delivery once and record the outcome; None when it was not due."""
    now = now or timezone.now()
    if not claim(delivery_id=delivery_id, now=now):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    if not delivery.endpoint.is_active:
        result = AttemptResult(False, None, 0, "The endpoint is disabled.")
        return record_attempt(delivery_id=delivery_id, result=result, now=now, final=True)
    return record_attempt(delivery_id=delivery_id, result=send(delivery, at=now), now=now)


def record_attempt(
    *, delivery_id, result: AttemptResult, now: datetime, final: bool = False
) -> WebhookDelivery:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        delivery.last_attempt_at = now
        delivery.response_status_code = result.status_code
        delivery.duration_ms = result.duration_ms
        delivery.error = result.error[:500]
        if final:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            delivery.save()
            return delivery
        delivery.attempts += 1
        WebhookDeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            attempted_at=now,
            response_status_code=result.status_code,
            duration_ms=result.duration_ms,
            error=result.error[:500],
        )
        if result.ok:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, None
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since", "updated_at"])
        else:
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            if endpoint.failing_since is None:
                endpoint.failing_since = now
                endpoint.save(update_fields=["failing_since", "updated_at"])
            elif endpoint.is_active and now - endpoint.failing_since >= DISABLE_AFTER:
                _disable_failing(endpoint, now=now)
        delivery.save()
    return delivery


def _disable_failing(endpoint: WebhookEndpoint, *, now: datetime) -> None:
    endpoint.is_active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = "Every delivery failed for 3 days."
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    record(
        action="webhook_endpoint.auto_disable",
        target=endpoint,
        details={"url": endpoint.url, "failing_since": endpoint.failing_since.isoformat()},
    )
    owner = endpoint.owner
    enqueue_on_commit(
        "accounts.tasks.send_templated_email",
        template="webhook_disabled",
        to=[owner.email],
        context={
            "username": owner.username,
            "url": endpoint.url,
            "endpoint_id": str(endpoint.pk),
            "failing_since": endpoint.failing_since.isoformat(),
        },
    )
    logger.warning("webhook endpoint %s disabled after 3 days of failures", endpoint.pk)
