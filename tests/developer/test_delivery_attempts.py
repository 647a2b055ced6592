"""GET /developer/webhooks/{id}/deliveries lists every HTTP attempt of each message."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from developer import outbox
from developer.models import OutboxEvent, WebhookDelivery, WebhookDeliveryAttempt
from tests.tracks.factories import TrackFactory
from tracks.models import Track
from tracks.services import mark_stream_ready


def _make_ready(track, capture) -> None:
    with capture(execute=True):
        mark_stream_ready(track_id=track.pk)


def _retry_until_settled(delivery, capture) -> None:
    for _ in range(5):
        delivery.refresh_from_db()
        if delivery.status != WebhookDelivery.Status.PENDING:
            return
        with capture(execute=True):
            outbox.sweep(now=delivery.next_attempt_at + timedelta(seconds=1))


def test_a_delivery_that_failed_twice_then_succeeded_lists_three_attempts(
    receiver, make_endpoint, client_for, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 503, 200]
    track = TrackFactory(status=Track.Status.PROCESSING)
    endpoint = make_endpoint(track.creator, receiver.url, ["track.ready"])
    _make_ready(track, django_capture_on_commit_callbacks)
    _retry_until_settled(
        WebhookDelivery.objects.get(endpoint=endpoint), django_capture_on_commit_callbacks
    )

    response = client_for(track.creator).get(f"/api/v1/developer/webhooks/{endpoint.pk}/deliveries")

    assert response.status_code == 200
    [entry] = response.json()["results"]
    assert entry["status"] == "succeeded" and entry["attempt"] == 3
    attempts = entry["attempts"]
    assert [a["response_status_code"] for a in attempts] == [500, 503, 200]
    assert [a["error"] for a in attempts] == ["HTTP 500", "HTTP 503", ""]
    assert all(isinstance(a["duration_ms"], int) and a["duration_ms"] >= 0 for a in attempts)
    times = [a["attempted_at"] for a in attempts]
    assert times == sorted(times) and len(set(times)) == 3
    assert set(attempts[0]) == {"attempted_at", "response_status_code", "duration_ms", "error"}


def test_a_redelivery_adds_an_attempt(
    receiver, make_endpoint, client_for, user, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(user, receiver.url, ["order.completed"])
    client = client_for(user)
    base = f"/api/v1/developer/webhooks/{endpoint.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{base}/test")
    [entry] = client.get(f"{base}/deliveries").json()["results"]
    assert len(entry["attempts"]) == 1

    receiver.statuses = [204, 410]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{base}/deliveries/{entry['id']}/redeliver").status_code == 202

    [entry] = client.get(f"{base}/deliveries").json()["results"]
    assert [a["response_status_code"] for a in entry["attempts"]] == [204, 410]
    assert entry["attempts"][1]["error"] == "HTTP 410"


def test_an_unreachable_target_is_an_attempt_without_a_status_code(
    receiver, make_endpoint, client_for, user, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(user, receiver.url, ["order.completed"])
    receiver.close()
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/v1/developer/webhooks/{endpoint.pk}/test")

    [entry] = client.get(f"/api/v1/developer/webhooks/{endpoint.pk}/deliveries").json()["results"]
    [attempt] = entry["attempts"]
    assert attempt["response_status_code"] is None and attempt["error"]


def test_the_list_costs_the_same_queries_for_one_or_many_deliveries(
    receiver, make_endpoint, client_for, user, django_assert_num_queries
):
    endpoint = make_endpoint(user, receiver.url, ["order.completed"])
    client = client_for(user)
    url = f"/api/v1/developer/webhooks/{endpoint.pk}/deliveries"

    def add_delivery(attempts: int) -> None:
        event = OutboxEvent.objects.create(type="order.completed", data={})
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
        for number in range(1, attempts + 1):
            WebhookDeliveryAttempt.objects.create(
                delivery=delivery,
                number=number,
                attempted_at=timezone.now(),
                response_status_code=500,
                duration_ms=3,
                error="HTTP 500",
            )

    add_delivery(2)
    client.get(url)  # warm the per-request caches (throttles, auth)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(url).json()["results"][0]["attempts"]) == 2
    for _ in range(6):
        add_delivery(3)
    # The same count with seven deliveries: the attempts come in one prefetch query.
    with django_assert_num_queries(len(one.captured_queries)):
        results = client.get(url).json()["results"]
    assert len(results) == 7 and all(len(r["attempts"]) == 3 for r in results[:6])


def test_retention_deletes_attempts_with_their_delivery(
    receiver, make_endpoint, user, settings, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(user, receiver.url, ["order.completed"])
    with django_capture_on_commit_callbacks(execute=True):
        from developer import services

        services.send_ping(endpoint=endpoint)
    assert WebhookDeliveryAttempt.objects.count() == 1

    later = timezone.now() + timedelta(days=settings.WEBHOOK_RETENTION_DAYS + 1)
    outbox.purge_delivered(now=later)

    assert WebhookDelivery.objects.count() == 0
    assert WebhookDeliveryAttempt.objects.count() == 0


def test_the_admin_delivery_page_shows_every_attempt(receiver, make_endpoint, user):
    from django.test import Client

    from tests.factories import UserFactory

    endpoint = make_endpoint(user, receiver.url, ["order.completed"])
    event = OutboxEvent.objects.create(type="order.completed", data={})
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, attempts=2)
    for number, code in ((1, 502), (2, 418)):
        WebhookDeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=timezone.now(),
            response_status_code=code,
            duration_ms=7,
            error=f"HTTP {code}",
        )
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(f"/admin/developer/webhookdelivery/{delivery.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "HTTP 502" in html and "HTTP 418" in html
