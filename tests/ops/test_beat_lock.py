"""The beat leader lock (veza.beat) against a real Redis: one holder, renewed only by it,
taken over when it expires or is released. Two real beat processes: tests/cluster."""

import os
import time

import pytest
import redis

from veza.beat import BeatLock

LOCK_KEY = "veza:beat-leader:test"

URL = os.environ.get("CELERY_BROKER_URL_FOR_TESTS") or os.environ.get("REDIS_URL", "")

needs_redis = pytest.mark.skipif(
    not URL.startswith("redis://"), reason="needs Redis (CELERY_BROKER_URL_FOR_TESTS or REDIS_URL)"
)


@pytest.fixture
def client():
    connection = redis.Redis.from_url(URL)
    connection.delete(LOCK_KEY)
    yield connection
    connection.delete(LOCK_KEY)


@needs_redis
def test_one_beat_holds_the_lock_and_only_it_renews_it(client):
    first = BeatLock(client, seconds=5, identity="beat-a", key=LOCK_KEY)
    second = BeatLock(client, seconds=5, identity="beat-b", key=LOCK_KEY)
    assert first.hold() is True
    assert second.hold() is False
    assert first.hold() is True  # renewed
    assert client.get(LOCK_KEY) == b"beat-a"
    assert 4000 < client.pttl(LOCK_KEY) <= 5000


@needs_redis
def test_a_dead_beats_lock_expires_and_the_other_takes_over(client):
    first = BeatLock(client, seconds=1, identity="beat-a", key=LOCK_KEY)
    second = BeatLock(client, seconds=1, identity="beat-b", key=LOCK_KEY)
    assert first.hold() is True
    assert second.hold() is False
    time.sleep(1.2)  # beat-a died: nobody renewed
    assert second.hold() is True
    assert first.hold() is False  # back from a pause, it does not steal the lock


@needs_redis
def test_a_beat_stopping_cleanly_hands_over_at_once_and_never_frees_anothers_lock(client):
    first = BeatLock(client, seconds=30, identity="beat-a", key=LOCK_KEY)
    second = BeatLock(client, seconds=30, identity="beat-b", key=LOCK_KEY)
    assert first.hold() is True
    second.release()  # not its lock: nothing happens
    assert client.get(LOCK_KEY) == b"beat-a"
    first.release()
    assert second.hold() is True


def test_without_redis_nobody_sends():
    unreachable = BeatLock(redis.Redis(port=1, socket_connect_timeout=0.5), seconds=5)
    assert unreachable.hold() is False
