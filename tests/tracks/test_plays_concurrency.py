"""Concurrent play batches on PostgreSQL, with real threads and their own connections."""

import json
import random
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.tracks.factories import TrackFactory
from tracks.models import Play, PlayBatch, Track

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

KEY = "s3cret-stream-key"


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock races need PostgreSQL (CI runs them there)")
    settings.STREAM_SERVER_INTERNAL_API_KEY = KEY


def run_together(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def send(body: dict):
    response = Client().post(
        "/api/v1/internal/plays",
        json.dumps(body),
        content_type="application/json",
        HTTP_X_INTERNAL_API_KEY=KEY,
    )
    return response.status_code, response.json()


def plays_of(tracks, n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    now = timezone.now()
    return [
        {
            "track_id": str(rng.choice(tracks).id),
            "played_at": (now - timedelta(seconds=i)).isoformat(),
            "seconds": 30,
        }
        for i in range(n)
    ]


def test_12_concurrent_batches_over_the_same_tracks_lose_no_play():
    tracks = TrackFactory.create_batch(5)
    batches = [{"batch_id": f"node-{i}", "plays": plays_of(tracks, 200, seed=i)} for i in range(12)]
    expected = {t.id: 0 for t in tracks}
    for batch in batches:
        for p in batch["plays"]:
            expected[next(t.id for t in tracks if str(t.id) == p["track_id"])] += 1

    results = run_together(12, lambda i: send(batches[i]))

    assert [status for status, _ in results] == [202] * 12, results
    counted = dict(Track.objects.filter(pk__in=expected).values_list("pk", "play_count"))
    assert counted == expected
    assert sum(counted.values()) == 12 * 200 == Play.objects.count()


def test_the_same_batch_sent_by_10_threads_at_once_is_counted_once():
    tracks = TrackFactory.create_batch(3)
    body = {"batch_id": "retried", "plays": plays_of(tracks, 50, seed=1)}

    results = run_together(10, lambda i: send(body))

    assert [status for status, _ in results] == [202] * 10, results
    assert [b["duplicate"] for _, b in results].count(False) == 1
    assert PlayBatch.objects.filter(batch_id="retried").count() == 1
    assert Play.objects.count() == 50
    assert sum(Track.objects.values_list("play_count", flat=True)) == 50
