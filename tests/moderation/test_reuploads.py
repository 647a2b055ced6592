"""Re-uploads of a recording taken down for copyright are refused by its fingerprint
(Chromaprint's fpcalc) or its bytes' SHA-256; other recordings pass."""

import os
import shutil

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditLog
from bench import recordings
from moderation.models import BlockedAudio
from tests.factories import CreatorFactory
from tests.tracks.factories import TrackFactory
from tracks.models import Track

pytestmark = pytest.mark.django_db


@pytest.fixture
def fpcalc():
    if shutil.which("fpcalc") is None:
        if os.environ.get("VEZA_REQUIRE_FPCALC"):
            pytest.fail("VEZA_REQUIRE_FPCALC is set but fpcalc (libchromaprint-tools) is missing")
        pytest.skip("Debian's libchromaprint-tools is not installed (.ci/run installs it)")


needs_fpcalc = pytest.mark.usefixtures("fpcalc")

COPYRIGHT = {
    "category": "copyright",
    "copyright": {"work_title": "Original", "rights_holder": "Label Ltd"},
}


@pytest.fixture(scope="module")
def song():
    """Recording 7: the original WAV and a disguised copy (quieter, 2.5 s of silence in
    front, re-encoded as MP3)."""
    return {"original": recordings.original(7), "disguised": recordings.variant(7)}


def taken_down_track(report_on, decide, moderator, content: bytes) -> Track:
    track = TrackFactory()
    track.file.name = default_storage.save(
        f"tracks/{track.creator_id}/{track.pk}.wav", ContentFile(content)
    )
    track.save(update_fields=["file"])
    report = report_on("track", track.pk, **COPYRIGHT)
    assert decide(moderator, report.json()["id"]).status_code == 200
    return track


def upload(client, name: str, content: bytes):
    content_type = "audio/mpeg" if name.endswith(".mp3") else "audio/wav"
    return client.post(
        "/api/v1/tracks",
        {"file": SimpleUploadedFile(name, content, content_type), "title": "Re-upload"},
        format="multipart",
    )


def test_the_same_file_is_refused_by_anyone(report_on, decide, moderator, client_for, song):
    taken_down_track(report_on, decide, moderator, song["original"])
    (blocked,) = BlockedAudio.objects.all()
    assert len(blocked.sha256) == 64
    someone = CreatorFactory()
    refused = upload(client_for(someone), "copy.wav", song["original"])
    assert refused.status_code == 400
    assert refused.json()["code"] == "blocked_content"
    assert Track.objects.filter(creator=someone).count() == 0
    assert AuditLog.objects.filter(action="moderation.upload_blocked", actor=someone).count() == 1


@needs_fpcalc
def test_the_same_recording_reencoded_quieter_and_padded_is_refused_while_another_passes(
    report_on, decide, moderator, client_for, song
):
    taken_down_track(report_on, decide, moderator, song["original"])
    assert BlockedAudio.objects.get().fingerprint  # fpcalc ran on the stored audio
    client = client_for(CreatorFactory())
    refused = upload(client, "disguised.mp3", song["disguised"])
    assert refused.status_code == 400, refused.json()
    assert refused.json()["code"] == "blocked_content"
    other = upload(client, "mine.wav", recordings.original(8))
    assert other.status_code == 201, other.json()
    other_disguised = upload(client, "mine.mp3", recordings.variant(9))
    assert other_disguised.status_code == 201, other_disguised.json()


@needs_fpcalc
def test_a_reversed_take_down_unblocks_the_recording(
    report_on, decide, moderators, client_for, song
):
    first, second = moderators
    track = taken_down_track(report_on, decide, first, song["original"])
    decision = client_for(track.creator).get("/api/v1/moderation/decisions").json()["results"][0]
    appeal = client_for(track.creator).post(
        f"/api/v1/moderation/decisions/{decision['id']}/appeal", {"text": "Mine."}, format="json"
    )
    client_for(second).post(
        f"/api/v1/admin/moderation/appeals/{appeal.json()['id']}/decide",
        {"outcome": "reversed", "explanation": "Licensed."},
        format="json",
    )
    assert BlockedAudio.objects.count() == 0
    assert upload(client_for(CreatorFactory()), "d.mp3", song["disguised"]).status_code == 201


def test_a_take_down_for_another_reason_blocks_nothing(
    report_on, decide, moderator, client_for, song
):
    track = TrackFactory()
    track.file.name = default_storage.save("tracks/x.wav", ContentFile(song["original"]))
    track.save(update_fields=["file"])
    report = report_on("track", track.pk, category="hate")
    assert decide(moderator, report.json()["id"]).status_code == 200
    assert BlockedAudio.objects.count() == 0
    assert upload(client_for(CreatorFactory()), "a.wav", song["original"]).status_code == 201


@needs_fpcalc
def test_a_steady_tone_reencoded_is_refused_another_tone_passes(
    report_on, decide, moderator, client_for
):
    a440 = recordings.tone(440.0)
    taken_down_track(report_on, decide, moderator, recordings.wav_file(recordings.pcm16(a440)))
    client = client_for(CreatorFactory())
    louder_mp3 = recordings.mp3_file(recordings.pcm16(a440, gain=1.5, pad_seconds=1.0))
    refused = upload(client, "tone.mp3", louder_mp3)
    assert refused.status_code == 400 and refused.json()["code"] == "blocked_content"
    other = recordings.wav_file(recordings.pcm16(recordings.tone(494.0)))
    assert upload(client, "b.wav", other).status_code == 201


@needs_fpcalc
def test_silence_taken_down_blocks_only_its_own_bytes(report_on, decide, moderator, client_for):
    quiet = recordings.wav_file(recordings.pcm16(recordings.silence(seconds=8.0)))
    taken_down_track(report_on, decide, moderator, quiet)
    client = client_for(CreatorFactory())
    longer = recordings.wav_file(recordings.pcm16(recordings.silence(seconds=9.0)))
    assert upload(client, "quiet.wav", longer).status_code == 201
    assert upload(client, "same.wav", quiet).status_code == 400


@needs_fpcalc
def test_a_large_upload_spooled_to_disk_is_checked_too(
    report_on, decide, moderator, client_for, song, settings
):
    # Above FILE_UPLOAD_MAX_MEMORY_SIZE Django writes the upload to a temporary file.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    taken_down_track(report_on, decide, moderator, song["original"])
    refused = upload(client_for(CreatorFactory()), "big.mp3", song["disguised"])
    assert refused.status_code == 400 and refused.json()["code"] == "blocked_content"
