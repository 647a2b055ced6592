"""Delivery to a real receiver on 127.0.0.1, signed per Standard Webhooks; retries with
backoff, the sweeper, auto-disable after 3 days, redelivery with the same webhook-id."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from audit.models import AuditLog
from developer import delivery as delivering
from developer import outbox
from developer.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from tests.tracks.factories import TrackFactory
from tracks.models import Track
from tracks.services import mark_stream_ready


def verified(receiver_request, secret: str) -> dict:
    """The Standard Webhooks reference verifier over what the receiver got."""
    return Webhook(secret).verify(receiver_request["body"], receiver_request["headers"])


def make_ready(track, capture) -> None:
    with capture(execute=True):
        mark_stream_ready(track_id=track.pk)


def test_published_test_vector_signs_as_the_specification_says():
    signer = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = signer.sign(
        msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=datetime.fromtimestamp(1614265330, tz=UTC),
        data='{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_event_is_delivered_signed_to_a_local_receiver(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    track = TrackFactory(status=Track.Status.PROCESSING)
    endpoint = make_endpoint(track.creator, receiver.url, ["track.ready"])

    make_ready(track, django_capture_on_commit_callbacks)

    (received,) = receiver.requests
    payload = verified(received, endpoint.secret)
    assert payload["type"] == "track.ready"
    assert payload["data"]["id"] == str(track.pk) and payload["timestamp"]
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert received["headers"]["webhook-id"] == delivery.message_id
    assert {k.lower(): v for k, v in received["headers"].items()}[
        "content-type"
    ] == "application/json"
    assert delivery.status == "succeeded" and delivery.attempts == 1
    assert delivery.response_status_code == 204 and delivery.duration_ms is not None
    assert OutboxEvent.objects.get(type="track.ready").dispatched_at is not None


def test_a_tampered_body_fails_the_reference_verifier(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    from standardwebhooks.webhooks import WebhookVerificationError

    track = TrackFactory(status=Track.Status.PROCESSING)
    endpoint = make_endpoint(track.creator, receiver.url, ["track.ready"])
    make_ready(track, django_capture_on_commit_callbacks)

    tampered = dict(
        receiver.requests[0], body=receiver.requests[0]["body"].replace(b"ready", b"READY")
    )
    with pytest.raises(WebhookVerificationError):
        verified(tampered, endpoint.secret)


def test_unsubscribed_event_types_are_not_sent(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    track = TrackFactory(status=Track.Status.PROCESSING)
    make_endpoint(track.creator, receiver.url, ["track.deleted"])

    make_ready(track, django_capture_on_commit_callbacks)

    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_failures_are_retried_with_backoff_and_the_same_webhook_id(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 503, 200]
    track = TrackFactory(status=Track.Status.PROCESSING)
    endpoint = make_endpoint(track.creator, receiver.url, ["track.ready"])

    make_ready(track, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == "pending" and delivery.attempts == 1
    first_wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(seconds=54) <= first_wait <= timedelta(seconds=66)

    # Not due yet: the sweeper leaves it alone.
    with django_capture_on_commit_callbacks(execute=True):
        outbox.sweep(now=delivery.last_attempt_at + timedelta(seconds=30))
    assert len(receiver.requests) == 1

    with django_capture_on_commit_callbacks(execute=True):
        outbox.sweep(now=delivery.next_attempt_at + timedelta(seconds=1))
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.response_status_code == 503
    second_wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(minutes=4.5) <= second_wait <= timedelta(minutes=5.5)

    with django_capture_on_commit_callbacks(execute=True):
        outbox.sweep(now=delivery.next_attempt_at + timedelta(seconds=1))
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 3
    ids = {request["headers"]["webhook-id"] for request in receiver.requests}
    assert ids == {delivery.message_id} and len(receiver.requests) == 3
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_retry_schedule_is_eight_tries_over_about_a_day():
    waits = [delivering.RETRY_DELAYS[n - 1] for n in range(1, delivering.MAX_ATTEMPTS)]
    assert delivering.MAX_ATTEMPTS == 8
    assert waits == sorted(waits)
    assert timedelta(hours=20) <= sum(waits, timedelta()) <= timedelta(hours=30)
    for attempts in range(1, delivering.MAX_ATTEMPTS):
        base = delivering.RETRY_DELAYS[attempts - 1]
        jittered = {delivering.retry_delay(attempts) for _ in range(20)}
        assert all(base * 0.9 <= wait <= base * 1.1 for wait in jittered)
        assert len(jittered) > 1


def test_gives_up_after_the_last_try(receiver, make_endpoint, django_capture_on_commit_callbacks):
    receiver.statuses = [500]
    track = TrackFactory(status=Track.Status.PROCESSING)
    endpoint = make_endpoint(track.creator, receiver.url, ["track.ready"])
    make_ready(track, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)

    while delivery.status == "pending":
        delivering.deliver(delivery_id=delivery.pk, now=delivery.next_attempt_at)
        delivery.refresh_from_db()

    assert delivery.status == "failed" and delivery.attempts == delivering.MAX_ATTEMPTS
    assert len(receiver.requests) == delivering.MAX_ATTEMPTS


def test_sweeper_delivers_what_a_dead_worker_left(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    track = TrackFactory(status=Track.Status.PROCESSING)
    make_endpoint(track.creator, receiver.url, ["track.ready"])
    # The change commits, but the task its commit enqueued never runs.
    with django_capture_on_commit_callbacks(execute=False):
        mark_stream_ready(track_id=track.pk)
    event = OutboxEvent.objects.get(type="track.ready")
    assert event.dispatched_at is None and receiver.requests == []

    with django_capture_on_commit_callbacks(execute=True):
        outbox.sweep(now=timezone.now() + timedelta(minutes=2))

    assert len(receiver.requests) == 1
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert WebhookDelivery.objects.get(event=event).status == "succeeded"


def test_a_claimed_delivery_whose_worker_died_is_retried_after_its_lease(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    track = TrackFactory(status=Track.Status.PROCESSING)
    endpoint = make_endpoint(track.creator, receiver.url, ["track.ready"])
    with django_capture_on_commit_callbacks(execute=False):
        mark_stream_ready(track_id=track.pk)
    (delivery,) = outbox.dispatch_event(event_id=OutboxEvent.objects.get().pk)
    now = timezone.now()
    assert delivering.claim(delivery_id=delivery.pk, now=now)  # ... and the worker dies

    with django_capture_on_commit_callbacks(execute=True):
        outbox.sweep(now=now + timedelta(seconds=30))
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        outbox.sweep(now=now + delivering.CLAIM_LEASE + timedelta(seconds=1))

    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get(endpoint=endpoint).status == "succeeded"


def test_endpoint_failing_for_three_days_is_disabled_and_its_owner_emailed(
    receiver, make_endpoint, django_capture_on_commit_callbacks, client_for
):
    receiver.statuses = [500]
    track = TrackFactory(status=Track.Status.PROCESSING)
    endpoint = make_endpoint(track.creator, receiver.url, ["track.ready"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=3, minutes=1)
    )

    make_ready(track, django_capture_on_commit_callbacks)

    endpoint.refresh_from_db()
    assert endpoint.is_active is False and endpoint.disabled_at is not None
    (email,) = mail.outbox
    assert email.to == [track.creator.email] and receiver.url in email.body
    assert AuditLog.objects.filter(
        action="webhook_endpoint.auto_disable", target_id=str(endpoint.pk)
    ).exists()

    # Its pending retry is not sent while it is disabled.
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    delivering.deliver(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and len(receiver.requests) == 1

    response = client_for(track.creator).patch(
        f"/api/v1/developer/webhooks/{endpoint.pk}", {"is_active": True}
    )
    assert response.status_code == 200 and response.json()["is_active"] is True
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None


def test_ping_deliveries_log_and_redelivery_through_the_api(
    receiver, make_endpoint, client_for, user, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(user, receiver.url, ["order.completed"])
    client = client_for(user)
    base = f"/api/v1/developer/webhooks/{endpoint.pk}"

    with django_capture_on_commit_callbacks(execute=True):
        pinged = client.post(f"{base}/test")
    assert pinged.status_code == 202
    assert verified(receiver.requests[0], endpoint.secret)["type"] == "ping"

    log = client.get(f"{base}/deliveries").json()
    assert log["count"] == 1
    entry = log["results"][0]
    assert entry["status"] == "succeeded" and entry["response_status_code"] == 204
    assert entry["attempt"] == 1 and entry["next_retry_at"] is None
    assert entry["duration_ms"] is not None and entry["event_type"] == "ping"

    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"{base}/deliveries/{entry['id']}/redeliver")
    assert again.status_code == 202 and again.json()["id"] == entry["id"]
    assert len(receiver.requests) == 2
    assert client.get(f"{base}/deliveries").json()["results"][0]["attempt"] == 2
    assert receiver.requests[1]["headers"]["webhook-id"] == entry["webhook_id"]


def test_body_is_the_standard_shape(receiver, make_endpoint, django_capture_on_commit_callbacks):
    track = TrackFactory(status=Track.Status.PROCESSING)
    make_endpoint(track.creator, receiver.url, ["track.ready"])
    make_ready(track, django_capture_on_commit_callbacks)

    body = json.loads(receiver.requests[0]["body"])
    assert set(body) == {"type", "timestamp", "data"}
    headers = receiver.requests[0]["headers"]
    assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert headers["webhook-signature"].startswith("v1,")


def test_nothing_is_sent_when_the_change_rolls_back(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    track = TrackFactory(status=Track.Status.PROCESSING)
    make_endpoint(track.creator, receiver.url, ["track.ready"])

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        mark_stream_ready(track_id=track.pk)
        raise RuntimeError

    assert receiver.requests == [] and not OutboxEvent.objects.exists()


def test_old_events_are_purged_once_nothing_is_left_to_send(make_endpoint, user, settings):
    settings.WEBHOOK_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    done = OutboxEvent.objects.create(type="ping", data={}, created_at=old, dispatched_at=old)
    waiting = OutboxEvent.objects.create(type="ping", data={}, created_at=old, dispatched_at=old)
    never_dispatched = OutboxEvent.objects.create(type="ping", data={}, created_at=old)
    recent = OutboxEvent.objects.create(type="ping", data={}, dispatched_at=timezone.now())
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    endpoint = make_endpoint(user, "http://127.0.0.1:9/x", ["order.completed"])
    WebhookDelivery.objects.create(endpoint=endpoint, event=done, status="succeeded")
    WebhookDelivery.objects.create(endpoint=endpoint, event=waiting, status="pending")

    assert outbox.purge_delivered() >= 1

    left = set(OutboxEvent.objects.values_list("pk", flat=True))
    assert left == {waiting.pk, never_dispatched.pk, recent.pk}
    assert not WebhookDelivery.objects.filter(event_id=done.pk).exists()
