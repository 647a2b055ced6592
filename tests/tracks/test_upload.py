from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import UserFactory
from tests.fakes.clamd import EICAR_MARKER
from tests.tracks.factories import wav_bytes
from tracks import metrics
from tracks.models import Track
from tracks.upload_slots import CACHE_KEY, upload_slot

pytestmark = pytest.mark.django_db

URL = "/api/v1/tracks"


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload(client, file, **fields):
    return client.post(URL, {"file": file, "title": "My song", **fields}, format="multipart")


def test_creator_uploads_a_wav_and_it_starts_processing(
    client_for, creator, wav_upload, django_capture_on_commit_callbacks
):
    before = metrics.tracks_uploaded._value.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client_for(creator), wav_upload(), genre="ambient", is_public="false")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "processing"
    assert body["format"] == "wav"
    assert body["creator"] == {"id": str(creator.id), "username": creator.username}
    assert body["like_count"] == 0 and body["liked_by_me"] is False
    track = Track.objects.get(pk=body["id"])
    assert (track.title, track.genre, track.is_public) == ("My song", "ambient", False)
    assert track.scan_status == Track.ScanStatus.UNSCANNED  # no CLAMAV_ADDRESS configured
    assert track.file_size == len(wav_bytes())
    assert default_storage.exists(track.file.name)
    with default_storage.open(track.file.name) as handle:
        assert handle.read() == wav_bytes()
    assert metrics.tracks_uploaded._value.get() == before + 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("song.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\0" * 64),
        ("song.mp3", b"\xff\xfb\x90\x64" + b"\0" * 64),
        ("song.flac", b"fLaC\x00\x00\x00\x22" + b"\0" * 64),
        ("song.ogg", b"OggS\x00\x02" + b"\0" * 64),
        ("song.m4a", b"\x00\x00\x00\x20ftypM4A " + b"\0" * 64),
        ("song.aac", b"\xff\xf1\x50\x80" + b"\0" * 64),
        ("SONG.WAV", None),
    ],
)
def test_every_supported_format_is_accepted_by_content(client_for, creator, name, content):
    file = SimpleUploadedFile(name, content if content is not None else wav_bytes())
    response = upload(client_for(creator), file)
    assert response.status_code == 201, response.json()
    assert Track.objects.get(pk=response.json()["id"]).format == name.rsplit(".", 1)[1].lower()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", b"just some text"),
        ("song.mp3", b"this is a text file pretending to be audio"),
        ("song.wav", b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 64),
        ("song.wav", b"\x7fELF\x02\x01\x01\x00" + b"\0" * 64),
        ("song.mp3", wav_bytes()),  # a real WAV under the wrong extension
        ("song", wav_bytes()),
        ("song.wav", b""),
    ],
)
def test_bad_files_are_invalid_and_leave_nothing_behind(
    client_for, creator, settings, name, content
):
    response = upload(client_for(creator), SimpleUploadedFile(name, content))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_file"
    assert Track.objects.count() == 0
    assert stored_files(settings) == []


def test_executable_renamed_wav_is_invalid_file(client_for, creator):
    response = upload(client_for(creator), SimpleUploadedFile("x.wav", b"MZ\x90\x00" * 20))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_file"


def test_oversize_file_is_rejected(client_for, creator, settings, wav_upload):
    settings.MAX_UPLOAD_SIZE = 100
    response = upload(client_for(creator), wav_upload())
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_file"
    assert Track.objects.count() == 0
    assert stored_files(settings) == []


def test_declared_body_far_over_the_limit_is_refused_before_parsing(client_for, creator, settings):
    settings.MAX_UPLOAD_SIZE = 10
    response = client_for(creator).generic(
        "POST",
        URL,
        b"x" * (2 * 1024 * 1024),
        content_type="multipart/form-data; boundary=BoUnDaRy",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_file"


def test_plain_user_cannot_upload(client_for, user, wav_upload, settings):
    response = upload(client_for(user), wav_upload())
    assert response.status_code == 403
    assert Track.objects.count() == 0
    assert stored_files(settings) == []


def test_bypass_setting_lets_a_plain_user_upload(client_for, user, wav_upload, settings):
    settings.BYPASS_CONTENT_CREATOR_ROLE = True
    assert upload(client_for(user), wav_upload()).status_code == 201


def test_anonymous_upload_is_401(api_client, wav_upload):
    assert upload(api_client, wav_upload()).status_code == 401
    assert Track.objects.count() == 0


def test_json_body_is_415(client_for, creator):
    response = client_for(creator).post(URL, {"title": "x"}, format="json")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_missing_file_or_title_is_400(client_for, creator, wav_upload):
    client = client_for(creator)
    response = client.post(URL, {"title": "no file"}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()
    response = client.post(URL, {"file": wav_upload()}, format="multipart")
    assert response.status_code == 400
    assert "title" in response.json()
    assert Track.objects.count() == 0


def test_clean_scan_marks_track_clean(client_for, creator, wav_upload, fake_clamd):
    response = upload(client_for(creator), wav_upload())
    assert response.status_code == 201
    assert Track.objects.get().scan_status == Track.ScanStatus.CLEAN
    assert fake_clamd.scanned == [wav_bytes()]


def test_clamd_over_a_unix_socket(client_for, creator, fake_clamd_unix, settings):
    response = upload(client_for(creator), SimpleUploadedFile("x.wav", wav_bytes() + EICAR_MARKER))
    assert response.status_code == 400
    assert response.json()["code"] == "infected_file"
    assert upload(client_for(creator), SimpleUploadedFile("y.wav", wav_bytes())).status_code == 201
    assert Track.objects.get().scan_status == Track.ScanStatus.CLEAN
    assert len(fake_clamd_unix.scanned) == 2


def test_large_upload_is_spooled_to_disk_scanned_and_stored(
    client_for, creator, fake_clamd, settings
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 256  # force a TemporaryUploadedFile
    content = wav_bytes(seconds=20)  # ~320 KB: several scan and storage chunks
    response = upload(client_for(creator), SimpleUploadedFile("long.wav", content))
    assert response.status_code == 201
    track = Track.objects.get()
    assert track.file_size == len(content)
    assert fake_clamd.scanned == [content]
    with default_storage.open(track.file.name) as handle:
        assert handle.read() == content


def test_infected_file_is_rejected_and_not_stored(client_for, creator, fake_clamd, settings):
    infected = wav_bytes() + EICAR_MARKER
    response = upload(client_for(creator), SimpleUploadedFile("evil.wav", infected))
    assert response.status_code == 400
    assert response.json()["code"] == "infected_file"
    assert Track.objects.count() == 0
    assert stored_files(settings) == []


def test_scanner_down_and_required_is_503(
    client_for, creator, wav_upload, dead_clamd_address, settings
):
    settings.CLAMAV_REQUIRED = True
    response = upload(client_for(creator), wav_upload())
    assert response.status_code == 503
    assert response.json()["code"] == "scanner_unavailable"
    assert Track.objects.count() == 0
    assert stored_files(settings) == []


def test_scanner_down_and_optional_accepts_unscanned(
    client_for, creator, wav_upload, dead_clamd_address, settings
):
    settings.CLAMAV_REQUIRED = False
    response = upload(client_for(creator), wav_upload())
    assert response.status_code == 201
    assert Track.objects.get().scan_status == Track.ScanStatus.UNSCANNED


def test_upload_past_the_concurrency_limit_is_503_with_retry_after(
    client_for, creator, wav_upload, settings
):
    settings.MAX_CONCURRENT_UPLOADS = 1
    with upload_slot():  # another upload in flight holds the only slot
        response = upload(client_for(creator), wav_upload())
    assert response.status_code == 503
    assert response.json()["code"] == "too_many_uploads"
    assert int(response["Retry-After"]) > 0
    assert Track.objects.count() == 0
    # The slot is given back: the next upload goes through.
    assert upload(client_for(creator), wav_upload()).status_code == 201
    assert cache.get(CACHE_KEY) == 0


def test_upload_slots_fall_back_to_a_local_semaphore_when_the_cache_fails(
    client_for, creator, wav_upload, settings, monkeypatch
):
    settings.MAX_CONCURRENT_UPLOADS = 1

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "add", broken)
    with upload_slot():
        response = upload(client_for(creator), wav_upload())
    assert response.status_code == 503
    assert upload(client_for(creator), wav_upload()).status_code == 201


def test_storage_failure_after_save_leaves_no_file(
    client_for, creator, wav_upload, settings, monkeypatch
):
    from tracks.models import Track as TrackModel

    def explode(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(TrackModel.objects, "create", explode)
    client = client_for(creator)
    client.raise_request_exception = False
    response = upload(client, wav_upload())
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert stored_files(settings) == []


def test_other_users_cannot_see_a_private_upload(client_for, creator, wav_upload):
    response = upload(client_for(creator), wav_upload(), is_public="false")
    track_id = response.json()["id"]
    assert client_for(UserFactory()).get(f"{URL}/{track_id}").status_code == 404
    assert client_for(creator).get(f"{URL}/{track_id}").status_code == 200
