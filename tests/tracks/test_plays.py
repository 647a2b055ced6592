"""The stream server's play reports: counted once per batch, into play_count, stats and the
listening history."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import UserFactory
from tests.tracks.factories import TrackFactory
from tracks.models import Play, PlayBatch, Track

pytestmark = pytest.mark.django_db

URL = "/api/v1/internal/plays"


@pytest.fixture
def stream_key(settings):
    settings.STREAM_SERVER_INTERNAL_API_KEY = "s3cret-stream-key"
    return settings.STREAM_SERVER_INTERNAL_API_KEY


@pytest.fixture
def report(api_client, stream_key):
    def post(body, *, key: str | None = stream_key):
        extra = {"HTTP_X_INTERNAL_API_KEY": key} if key is not None else {}
        return api_client.post(URL, body, format="json", **extra)

    return post


def play(track, *, user=None, seconds: int = 30, ago_minutes: int = 5) -> dict:
    body = {
        "track_id": str(track.id if hasattr(track, "id") else track),
        "played_at": (timezone.now() - timedelta(minutes=ago_minutes)).isoformat(),
        "seconds": seconds,
    }
    if user is not None:
        body["user_id"] = str(user.id)
    return body


def test_a_batch_feeds_play_count_stats_and_history(report, api_client, client_for):
    listener = UserFactory()
    hit, other = TrackFactory(), TrackFactory()

    response = report(
        {
            "batch_id": "b-1",
            "plays": [
                play(hit, user=listener, ago_minutes=3),
                play(hit, seconds=12),
                play(other, user=listener, ago_minutes=1),
            ],
        }
    )

    assert response.status_code == 202
    assert response.json() == {"batch_id": "b-1", "accepted": 3, "skipped": 0, "duplicate": False}
    hit.refresh_from_db()
    other.refresh_from_db()
    assert (hit.play_count, other.play_count) == (2, 1)
    assert Play.objects.filter(track=hit).count() == 2
    assert Play.objects.get(track=hit, user=None).seconds == 12
    assert api_client.get(f"/api/v1/tracks/{hit.id}/stats").json()["plays"] == 2
    assert api_client.get(f"/api/v1/tracks/{hit.id}").json()["play_count"] == 2

    history = client_for(listener).get("/api/v1/tracks/listening-history").json()
    assert history["count"] == 2
    assert [entry["track"]["id"] for entry in history["results"]] == [str(other.id), str(hit.id)]


def test_a_repeated_batch_is_counted_once(report):
    track = TrackFactory()
    body = {"batch_id": "retry-me", "plays": [play(track), play(track)]}

    first = report(body)
    second = report(body)

    assert first.status_code == second.status_code == 202
    assert first.json()["duplicate"] is False
    assert second.json() == {
        "batch_id": "retry-me",
        "accepted": 2,
        "skipped": 0,
        "duplicate": True,
    }
    track.refresh_from_db()
    assert track.play_count == 2
    assert Play.objects.count() == 2
    assert PlayBatch.objects.filter(batch_id="retry-me").count() == 1


def test_unknown_tracks_are_skipped_and_unknown_users_kept_anonymous(report):
    track = TrackFactory()
    ghost = UserFactory.build()  # never saved: an id the database does not know

    response = report(
        {
            "batch_id": "mixed",
            "plays": [play(uuid.uuid4()), play(track, user=ghost), play(uuid.uuid4())],
        }
    )

    assert response.status_code == 202
    assert response.json()["accepted"] == 1
    assert response.json()["skipped"] == 2
    assert Play.objects.get().user_id is None
    track.refresh_from_db()
    assert track.play_count == 1
    assert PlayBatch.objects.get(batch_id="mixed").skipped == 2


def test_an_empty_batch_is_accepted_and_recorded(report):
    response = report({"batch_id": "nothing", "plays": []})
    assert response.status_code == 202
    assert response.json()["accepted"] == 0
    assert PlayBatch.objects.filter(batch_id="nothing").exists()


def test_a_full_batch_of_1000_is_one_update_per_track(report):
    tracks = TrackFactory.create_batch(3)
    plays = [play(tracks[i % 3]) for i in range(1000)]

    with CaptureQueriesContext(connection) as queries:
        response = report({"batch_id": "full", "plays": plays})

    assert response.status_code == 202
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "tracks_track"')]
    assert len(updates) == 3
    assert response.json()["accepted"] == 1000
    counts = sorted(
        Track.objects.filter(pk__in=[t.pk for t in tracks]).values_list("play_count", flat=True)
    )
    assert counts == [333, 333, 334]


def test_more_than_1000_plays_is_400_and_changes_nothing(report):
    track = TrackFactory()
    response = report({"batch_id": "too-big", "plays": [play(track)] * 1001})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "plays" in body
    track.refresh_from_db()
    assert track.play_count == 0
    assert not PlayBatch.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"plays": []},
        {"batch_id": "", "plays": []},
        {"batch_id": "x" * 129, "plays": []},
        {"batch_id": "b"},
        {"batch_id": "b", "plays": [{"track_id": "not-a-uuid", "played_at": "now", "seconds": 1}]},
        {"batch_id": "b", "plays": [{"track_id": str(uuid.uuid4()), "seconds": -1}]},
        {"batch_id": "b", "plays": "nope"},
    ],
)
def test_invalid_batches_are_json_400(report, body):
    response = report(body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not PlayBatch.objects.exists()


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
def test_plays_need_the_internal_key(report, key):
    track = TrackFactory()
    response = report({"batch_id": "b", "plays": [play(track)]}, key=key)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"
    track.refresh_from_db()
    assert track.play_count == 0


def test_plays_are_closed_when_no_key_is_configured(api_client, settings):
    settings.STREAM_SERVER_INTERNAL_API_KEY = ""
    response = api_client.post(
        URL, {"batch_id": "b", "plays": []}, format="json", HTTP_X_INTERNAL_API_KEY=""
    )
    assert response.status_code == 401
    assert not PlayBatch.objects.exists()


def test_history_needs_auth_and_hides_tracks_made_private_since(report, api_client, client_for):
    listener = UserFactory()
    kept, hidden = TrackFactory(), TrackFactory()
    report({"batch_id": "h", "plays": [play(kept, user=listener), play(hidden, user=listener)]})
    Track.objects.filter(pk=hidden.pk).update(is_public=False)

    assert api_client.get("/api/v1/tracks/listening-history").status_code == 401
    history = client_for(listener).get("/api/v1/tracks/listening-history").json()
    assert [entry["track"]["id"] for entry in history["results"]] == [str(kept.id)]
    assert client_for(UserFactory()).get("/api/v1/tracks/listening-history").json()["count"] == 0


def test_stream_url_shows_once_the_track_is_ready(report, api_client, client_for, stream_key):
    track = TrackFactory(status=Track.Status.PROCESSING)
    owner = client_for(track.creator)
    assert owner.get(f"/api/v1/tracks/{track.id}").json()["stream_url"] is None

    response = api_client.post(
        f"/api/v1/internal/tracks/{track.id}/stream-ready",
        {"stream_url": "https://stream.example.test/hls/abc.m3u8"},
        format="json",
        HTTP_X_INTERNAL_API_KEY=stream_key,
    )

    assert response.status_code == 200
    assert response.json()["stream_url"] == "https://stream.example.test/hls/abc.m3u8"
    body = api_client.get(f"/api/v1/tracks/{track.id}").json()
    assert body["status"] == "ready"
    assert body["stream_url"] == "https://stream.example.test/hls/abc.m3u8"


def test_staff_see_play_batches_read_only_in_the_admin(report, client):
    from tests.factories import AdminFactory

    report({"batch_id": "seen-in-admin", "plays": []})
    client.force_login(AdminFactory(is_staff=True, is_superuser=True))

    listing = client.get("/admin/tracks/playbatch/")

    assert listing.status_code == 200
    assert b"seen-in-admin" in listing.content
    assert client.get("/admin/tracks/playbatch/add/").status_code == 403
