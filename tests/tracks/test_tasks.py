from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from tests.tracks.factories import TrackFactory, TrackShareFactory
from tracks import tasks
from tracks.models import Track, TrackShare

pytestmark = pytest.mark.django_db


def test_stuck_processing_track_is_failed_and_its_file_removed(
    settings, django_capture_on_commit_callbacks
):
    settings.TRACK_PROCESSING_TIMEOUT = 3600
    stuck = TrackFactory(
        status=Track.Status.PROCESSING,
        status_changed_at=timezone.now() - timedelta(hours=2),
        with_file=True,
    )
    fresh = TrackFactory(status=Track.Status.PROCESSING, with_file=True)
    ready_old = TrackFactory(
        status=Track.Status.READY,
        status_changed_at=timezone.now() - timedelta(days=3),
        with_file=True,
    )
    stuck_file = stuck.file.name

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.fail_stuck_processing_tracks.delay().get() == 1

    stuck.refresh_from_db()
    assert stuck.status == Track.Status.FAILED
    assert not stuck.file
    assert not default_storage.exists(stuck_file)
    assert stuck.changes.get().changes["status"] == {"from": "processing", "to": "failed"}
    fresh.refresh_from_db()
    ready_old.refresh_from_db()
    assert fresh.status == Track.Status.PROCESSING and default_storage.exists(fresh.file.name)
    assert ready_old.status == Track.Status.READY and default_storage.exists(ready_old.file.name)


def test_fail_stuck_tracks_command(settings):
    TrackFactory(
        status=Track.Status.PROCESSING, status_changed_at=timezone.now() - timedelta(days=1)
    )
    out = StringIO()
    call_command("fail_stuck_tracks", stdout=out)
    assert "1 stuck track(s)" in out.getvalue()
    assert Track.objects.get().status == Track.Status.FAILED


def test_purge_expired_shares_keeps_active_ones():
    active = TrackShareFactory()
    TrackShareFactory(expires_at=timezone.now() - timedelta(minutes=1))
    TrackShareFactory(revoked_at=timezone.now())
    assert tasks.purge_expired_shares.delay().get() == 2
    assert list(TrackShare.objects.all()) == [active]
    out = StringIO()
    call_command("purge_expired_shares", stdout=out)
    assert "0 share link(s)" in out.getvalue()
