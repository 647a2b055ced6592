"""A real worker and beat: an event whose task was lost after the commit (worker down, the
message gone) is dispatched by beat's sweep and delivered, signed, by the worker."""

from datetime import timedelta
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from developer.models import OutboxEvent, WebhookDelivery
from tests.developer.conftest import Receiver
from tests.factories import CreatorFactory
from tests.ops import test_worker as worker_tests
from tests.ops.conftest import start, stop, tail, wait_for
from tests.tracks.factories import TrackFactory
from tracks.models import Track
from tracks.services import mark_stream_ready

# The worker tests' fixtures: a broker to publish to, the worker's environment, PostgreSQL.
BROKER = worker_tests.BROKER
broker = worker_tests.broker
celery_env = worker_tests.celery_env
_needs_postgres = worker_tests._needs_postgres
_celery = worker_tests._celery

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        not BROKER, reason="set CELERY_BROKER_URL_FOR_TESTS (e.g. redis://127.0.0.1:6379/5)"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_a_lost_dispatch_is_swept_by_beat_and_delivered_by_the_worker(
    broker,
    celery_env,
    tmp_path: Path,
    settings,
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = Receiver()
    worker = beat = None
    try:
        creator = CreatorFactory()
        from developer.services import create_endpoint

        endpoint = create_endpoint(owner=creator, url=receiver.url, events=["track.ready"])
        track = TrackFactory(creator=creator, status=Track.Status.PROCESSING)
        mark_stream_ready(track_id=track.pk)  # committed; its dispatch task is published...
        broker.control.purge()  # ... and lost before any worker took it
        event = OutboxEvent.objects.get(type="track.ready")
        OutboxEvent.objects.filter(pk=event.pk).update(
            created_at=event.created_at - timedelta(minutes=2)
        )
        assert event.dispatched_at is None

        env = {**celery_env, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "WEBHOOK_SWEEP_INTERVAL": "2"}
        worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
        worker = start(
            _celery("worker", "--loglevel=INFO", "--pool=solo", "--without-heartbeat"),
            env=env,
            log=worker_log,
        )
        beat = start(
            _celery("beat", "--loglevel=INFO", "-s", str(tmp_path / "celerybeat-schedule")),
            env=env,
            log=beat_log,
        )

        assert wait_for(lambda: receiver.requests, timeout=40, interval=0.5), (
            f"nothing delivered in 40 s\n--- worker\n{tail(worker_log)}\n--- beat\n{tail(beat_log)}"
        )
        received = receiver.requests[0]
        payload = Webhook(endpoint.secret).verify(received["body"], received["headers"])
        assert payload["type"] == "track.ready" and payload["data"]["id"] == str(track.pk)
        delivered = wait_for(
            lambda: WebhookDelivery.objects.filter(endpoint=endpoint, status="succeeded").first(),
            timeout=10,
        )
        assert delivered is not None and delivered.message_id == received["headers"]["webhook-id"]
    finally:
        stop(beat)
        stop(worker)
        receiver.close()
