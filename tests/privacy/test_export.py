"""Right of access: one ZIP of the caller's data, built by a task, downloaded through a signed
link that works without credentials, refused once tampered with or expired."""

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditLog
from privacy.models import DataExport
from privacy.tasks import expire_exports
from tests.factories import CreatorFactory, UserFactory
from tests.marketplace.factories import ProductFactory, completed_order
from tests.payments.payout_helpers import sold
from tests.storage.conftest import s3_client
from tests.tracks.factories import TrackFactory, TrackLikeFactory, wav_bytes

pytestmark = pytest.mark.django_db


def upload_track(client, content: bytes, title: str = "First take") -> dict:
    response = client.post(
        "/api/v1/tracks",
        {"file": SimpleUploadedFile("take.wav", content, "audio/wav"), "title": title},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def export_now(client, on_commit) -> dict:
    """Request an export, let its task run, and return the export as GET shows it."""
    with on_commit():
        response = client.post("/api/v1/users/me/export")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    detail = client.get(f"/api/v1/users/me/exports/{response.json()['id']}")
    assert detail.status_code == 200
    return detail.json()


def download(api_client, url: str):
    return api_client.get(url)  # no credentials: the signature is the credential


def read_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_an_export_holds_the_profile_tracks_with_their_audio_playlists_likes_and_orders(
    client_for, api_client, on_commit, settings
):
    creator = CreatorFactory(display_name="Ada L.")
    client = client_for(creator)
    audio = wav_bytes(seconds=0.3)
    track = upload_track(client, audio)
    liked = TrackFactory(title="Somebody else's")
    TrackLikeFactory(user=creator, track=liked)
    playlist = client.post("/api/v1/playlists", {"title": "Road trip"}, format="json").json()
    client.post(f"/api/v1/playlists/{playlist['id']}/tracks", {"track_id": liked.pk}, format="json")
    order = completed_order(buyer=creator, products=[ProductFactory(title="Drum kit")])
    sale = sold(seller=creator, price=1000)

    export = export_now(client, on_commit)

    assert export["status"] == "ready"
    assert export["progress"] == 100
    assert set(export) >= {"id", "status", "download_url", "expires_at", "size"}
    expires_at = timezone.datetime.fromisoformat(export["expires_at"])
    assert abs(expires_at - (timezone.now() + timedelta(hours=72))) < timedelta(minutes=1)
    archive = read_zip(download(api_client, export["download_url"]))
    names = set(archive.namelist())
    assert {
        "profile.json",
        "sessions.json",
        "tracks.json",
        "playlists.json",
        "likes.json",
        "orders.json",
        "licences.json",
        "invoices/",
        "products.json",
        "statement.csv",
        "payouts.json",
    } <= names
    profile = json.loads(archive.read("profile.json"))
    assert (profile["id"], profile["email"], profile["display_name"]) == (
        str(creator.pk),
        creator.email,
        "Ada L.",
    )
    assert isinstance(json.loads(archive.read("sessions.json")), list)
    [track_row] = json.loads(archive.read("tracks.json"))
    assert track_row["id"] == track["id"]
    assert archive.read(track_row["audio_file"]) == audio  # byte for byte the upload
    assert track_row["audio_file"].startswith("tracks/first-take-")
    [playlist_row] = json.loads(archive.read("playlists.json"))
    assert playlist_row["title"] == "Road trip"
    assert [entry["track"]["id"] for entry in playlist_row["tracks"]] == [str(liked.pk)]
    assert [like["track_id"] for like in json.loads(archive.read("likes.json"))] == [str(liked.pk)]
    [order_row] = json.loads(archive.read("orders.json"))
    assert (order_row["id"], order_row["status"]) == (str(order.pk), "completed")
    [licence] = json.loads(archive.read("licences.json"))
    assert licence["product"]["title"] == "Drum kit"
    [product] = json.loads(archive.read("products.json"))
    assert product["id"] == str(sale.items.get().product_id)
    rows = list(csv.DictReader(io.StringIO(archive.read("statement.csv").decode())))
    assert [row["kind"] for row in rows] == ["opening_balance", "sale_credit", "closing_balance"]
    assert rows[-1]["amount"] == "900"
    assert json.loads(archive.read("payouts.json")) == []

    # The emailed link is the same signed link, on the public API base.
    [email] = [m for m in mail.outbox if "export" in m.subject]
    assert email.to == [creator.email]
    path = export["download_url"].removeprefix("http://testserver")
    assert settings.API_PUBLIC_URL + path in email.body
    assert AuditLog.objects.filter(action="privacy.export_requested", actor=creator).exists()
    assert AuditLog.objects.filter(action="privacy.export_ready").exists()


def test_a_buyer_gets_no_seller_files(client_for, api_client, on_commit):
    buyer = UserFactory()

    export = export_now(client_for(buyer), on_commit)

    names = set(read_zip(download(api_client, export["download_url"])).namelist())
    assert "profile.json" in names
    assert not names & {"products.json", "statement.csv", "payouts.json"}


def test_one_export_at_a_time(client_for):
    user = UserFactory()
    client = client_for(user)

    first = client.post("/api/v1/users/me/export")  # its task never ran: still pending
    second = client.post("/api/v1/users/me/export")

    assert first.status_code == 202
    assert second.status_code == 409
    assert second.json()["code"] == "export_in_progress"
    assert DataExport.objects.filter(user=user).count() == 1
    # The database holds the rule, not only the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        DataExport.objects.create(user=user)


def test_a_new_export_may_be_asked_for_once_the_last_is_ready(client_for, on_commit):
    client = client_for(UserFactory())
    export_now(client, on_commit)

    assert client.post("/api/v1/users/me/export").status_code == 202


def test_another_users_export_is_not_found(client_for, on_commit):
    export = export_now(client_for(UserFactory()), on_commit)

    response = client_for(UserFactory()).get(f"/api/v1/users/me/exports/{export['id']}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_tampered_link_is_refused(client_for, api_client, on_commit):
    mine = export_now(client_for(UserFactory()), on_commit)
    theirs = export_now(client_for(UserFactory()), on_commit)
    url = mine["download_url"]

    forged_signature = download(api_client, url[:-3] + ("aaa" if url[-3:] != "aaa" else "bbb"))
    other_export = download(api_client, url.replace(mine["id"], theirs["id"]))
    no_token = download(api_client, url.split("?")[0])

    for response in (forged_signature, other_export, no_token):
        assert response.status_code == 404
        assert response.json()["code"] == "export_link_invalid"


def test_an_expired_link_is_refused_and_its_file_deleted_by_the_job(
    client_for, api_client, on_commit
):
    client = client_for(UserFactory())
    export = export_now(client, on_commit)
    row = DataExport.objects.get(pk=export["id"])
    assert default_storage.exists(row.file)
    DataExport.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = download(api_client, export["download_url"])

    assert response.status_code == 410
    assert response.json()["code"] == "export_expired"
    assert client.get(f"/api/v1/users/me/exports/{row.pk}").json()["status"] == "expired"

    with on_commit():
        assert expire_exports.delay().get() == 1

    assert not default_storage.exists(row.file)
    row.refresh_from_db()
    assert (row.status, row.file) == ("expired", "")
    assert "download_url" not in client.get(f"/api/v1/users/me/exports/{row.pk}").json()
    assert download(api_client, export["download_url"]).status_code == 410


def test_the_link_expires_after_export_ttl_hours(client_for, api_client, on_commit, settings):
    settings.EXPORT_TTL_HOURS = 1
    export = export_now(client_for(UserFactory()), on_commit)
    later = timezone.now() + timedelta(hours=1, minutes=1)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        response = download(api_client, export["download_url"])

    assert response.status_code == 410


@pytest.mark.s3
def test_the_export_streams_into_the_object_store_and_downloads_back(
    s3_media, client_for, api_client, on_commit
):
    creator = CreatorFactory()
    client = client_for(creator)
    audio = wav_bytes(seconds=0.4)
    upload_track(client, audio)

    export = export_now(client, on_commit)

    row = DataExport.objects.get(pk=export["id"])
    s3 = s3_client(s3_media["endpoint"])
    stored = s3.get_object(Bucket=s3_media["bucket"], Key=f"media/{row.file}")["Body"].read()
    assert len(stored) == row.size
    archive = read_zip(download(api_client, export["download_url"]))
    assert archive.read(json.loads(archive.read("tracks.json"))[0]["audio_file"]) == audio
    assert zipfile.ZipFile(io.BytesIO(stored)).namelist() == archive.namelist()


def test_the_export_lists_the_sessions_a_user_signed_in_with(api_client, on_commit):
    from rest_framework.test import APIClient

    from tests.factories import DEFAULT_PASSWORD

    user = UserFactory()
    signed_in = api_client.post(
        "/api/v1/auth/login",
        {"email": user.email, "password": DEFAULT_PASSWORD},
        format="json",
        HTTP_USER_AGENT="Export-Test/1.0",
    )
    assert signed_in.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['access']}")
    (session,) = client.get("/api/v1/auth/sessions").json()["results"]

    export = export_now(client, on_commit)

    archive = read_zip(download(APIClient(), export["download_url"]))
    sessions = json.loads(archive.read("sessions.json"))
    assert [s["id"] for s in sessions] == [session["id"]]
    assert sessions[0]["user_agent"] == "Export-Test/1.0"


def test_the_export_holds_the_buyers_invoices_as_pdfs(client_for, api_client, on_commit):
    from invoicing.models import Invoice

    buyer = UserFactory()
    order = completed_order(buyer=buyer, products=[ProductFactory(price=1500)])
    invoice = Invoice.objects.get(order=order, kind="invoice")

    export = export_now(client_for(buyer), on_commit)

    archive = read_zip(download(api_client, export["download_url"]))
    assert f"invoices/{invoice.number}.pdf" in archive.namelist()
    assert archive.read(f"invoices/{invoice.number}.pdf").startswith(b"%PDF")
