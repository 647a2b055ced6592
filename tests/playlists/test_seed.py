import pytest
from django.core.files.storage import default_storage

from accounts.seed import seed_users
from playlists import seed as playlist_seed
from playlists.models import Playlist, PlaylistCollaborator, PlaylistTrack
from tracks import seed as track_seed
from tracks.models import Track, TrackLike, TrackShare

pytestmark = pytest.mark.django_db


def run_steps(scale: int = 1) -> None:
    for _, step in track_seed.STEPS + playlist_seed.STEPS:
        step(scale=scale)


def snapshot() -> tuple[int, ...]:
    return (
        Track.objects.count(),
        TrackLike.objects.count(),
        TrackShare.objects.count(),
        Playlist.objects.count(),
        PlaylistTrack.objects.count(),
        PlaylistCollaborator.objects.count(),
    )


def test_seed_does_nothing_without_demo_users():
    run_steps()
    assert snapshot() == (0, 0, 0, 0, 0, 0)


def test_seed_builds_a_demo_world_through_the_services_and_is_idempotent():
    seed_users(scale=1)
    run_steps()
    first = snapshot()
    assert all(count > 0 for count in first)
    track = Track.objects.filter(creator__username__startswith="demo_").first()
    assert track.status == Track.Status.READY
    with default_storage.open(track.file.name) as handle:
        assert handle.read(4) == b"RIFF"
    for playlist in Playlist.objects.all():
        positions = list(playlist.entries.order_by("position").values_list("position", flat=True))
        assert positions == list(range(len(positions)))
    run_steps()
    assert snapshot() == first


def test_seed_scale_adds_bulk_tracks_once():
    seed_users(scale=1)
    run_steps(scale=3)
    bulk = Track.objects.filter(title__startswith=track_seed.BULK_TITLE_PREFIX)
    assert bulk.count() == 100
    assert set(bulk.values_list("status", flat=True)) == {Track.Status.READY}
    run_steps(scale=3)
    assert bulk.count() == 100
