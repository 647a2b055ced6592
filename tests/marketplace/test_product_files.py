"""The deliverable of a pack, sample or licence product: uploaded by its seller with the
track upload's checks, downloaded by licence holders through the signed link."""

import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditLog
from marketplace.models import License, Product
from tests.factories import AdminFactory, CreatorFactory, UserFactory
from tests.fakes.clamd import EICAR_MARKER
from tests.marketplace.factories import ProductFactory, completed_order
from tests.tracks.factories import TrackFactory, wav_bytes

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def zip_bytes() -> bytes:
    """A real archive, the same bytes on every call (fixed member timestamps)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in (("kick.wav", wav_bytes()), ("README.txt", b"128 bpm")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def file_url(product) -> str:
    return f"/api/v1/marketplace/products/{product.id}/file"


def send(client, product, name: str, content: bytes, *, method: str = "post"):
    upload = SimpleUploadedFile(name, content, "application/octet-stream")
    return getattr(client, method)(file_url(product), {"file": upload}, format="multipart")


def fetch(client, api_client, product) -> bytes:
    link = client.get(f"/api/v1/marketplace/download/{product.id}")
    assert link.status_code == 200, link.content
    response = api_client.get(link.json()["url"].replace("http://testserver", ""))
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content), response


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("loops.zip", zip_bytes(), "application/zip"),
        ("licence.pdf", PDF, "application/pdf"),
        ("one-shot.wav", wav_bytes(), "audio/wav"),
        ("hook.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 8, "audio/mpeg"),
        ("stem.flac", b"fLaC\x00\x00\x00\x22" + b"\x00" * 40, "audio/flac"),
    ],
)
def test_seller_uploads_a_file_and_a_buyer_downloads_it(
    client_for, api_client, name, content, content_type
):
    product = ProductFactory(product_type=Product.Type.PACK, title="Drum Kit")

    response = send(client_for(product.seller), product, name, content)

    assert response.status_code == 200, response.content
    assert response.json()["has_file"] is True
    product.refresh_from_db()
    assert product.file.name.startswith(f"products/{product.id}/")
    assert default_storage.open(product.file.name).read() == content
    assert AuditLog.objects.filter(action="product.file", target_id=str(product.id)).exists()

    buyer = completed_order(products=[product]).buyer
    body, download = fetch(client_for(buyer), api_client, product)
    assert body == content
    assert download["Content-Type"] == content_type
    assert f'filename="drum-kit.{name.rsplit(".", 1)[1]}"' in download["Content-Disposition"]


def test_put_replaces_the_file_and_deletes_the_old_one(
    client_for, api_client, django_capture_on_commit_callbacks
):
    product = ProductFactory(product_type=Product.Type.SAMPLE)
    seller = client_for(product.seller)
    with django_capture_on_commit_callbacks(execute=True):
        assert send(seller, product, "a.pdf", PDF).status_code == 200
    product.refresh_from_db()
    first = product.file.name

    with django_capture_on_commit_callbacks(execute=True):
        response = send(seller, product, "b.zip", zip_bytes(), method="put")

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.file.name.endswith(".zip")
    assert not default_storage.exists(first)
    buyer = completed_order(products=[product]).buyer
    assert fetch(client_for(buyer), api_client, product)[0] == zip_bytes()


def test_admin_may_upload_others_get_403_anonymous_401_unknown_404(client_for, api_client):
    product = ProductFactory(product_type=Product.Type.LICENSE)

    assert send(client_for(UserFactory()), product, "l.pdf", PDF).status_code == 403
    assert send(client_for(CreatorFactory()), product, "l.pdf", PDF).status_code == 403
    assert send(api_client, product, "l.pdf", PDF).status_code == 401
    product.refresh_from_db()
    assert not product.file

    missing = ProductFactory.build()
    assert send(client_for(product.seller), missing, "l.pdf", PDF).status_code == 404
    assert send(client_for(AdminFactory()), product, "l.pdf", PDF).status_code == 200
    product.refresh_from_db()
    assert product.file


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", b"just text"),
        ("fake.pdf", b"PK\x03\x04 a zip wearing a pdf name"),
        ("fake.zip", PDF),
        ("fake.wav", b"ID3 not a wave"),
        ("song.ogg", b"OggS\x00\x02" + b"\x00" * 30),  # audio, but not a product type
        ("empty.zip", b""),
    ],
)
def test_a_file_of_the_wrong_type_is_400_invalid_file_and_nothing_is_stored(
    client_for, name, content
):
    product = ProductFactory()

    response = send(client_for(product.seller), product, name, content)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_file"
    product.refresh_from_db()
    assert not product.file
    assert not default_storage.exists(f"products/{product.id}")


def test_a_file_over_max_upload_size_is_400(client_for, settings):
    settings.MAX_UPLOAD_SIZE = 64
    product = ProductFactory()
    response = send(client_for(product.seller), product, "big.pdf", PDF + b"x" * 100)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_file"
    product.refresh_from_db()
    assert not product.file


def test_a_track_product_takes_no_file(client_for):
    track = TrackFactory()
    product = ProductFactory(seller=track.creator, product_type=Product.Type.TRACK, track=track)
    response = send(client_for(product.seller), product, "a.pdf", PDF)
    assert response.status_code == 400
    assert response.json()["code"] == "track_product_file"
    product.refresh_from_db()
    assert not product.file


def test_the_file_is_scanned_and_an_infected_one_refused(client_for, fake_clamd):
    product = ProductFactory()
    seller = client_for(product.seller)

    infected = send(seller, product, "kit.zip", zip_bytes() + EICAR_MARKER)
    assert infected.status_code == 400
    assert infected.json()["code"] == "infected_file"
    product.refresh_from_db()
    assert not product.file

    assert send(seller, product, "kit.zip", zip_bytes()).status_code == 200
    assert fake_clamd.scanned[-1] == zip_bytes()


def test_scanner_down_is_503_when_required(client_for, dead_clamd_address, settings):
    settings.CLAMAV_REQUIRED = True
    product = ProductFactory()
    response = send(client_for(product.seller), product, "kit.pdf", PDF)
    assert response.status_code == 503
    assert response.json()["code"] == "scanner_unavailable"
    product.refresh_from_db()
    assert not product.file


def test_a_product_without_file_is_404_on_download_and_has_file_false(client_for, api_client):
    product = ProductFactory()
    assert api_client.get(f"/api/v1/marketplace/products/{product.id}").json()["has_file"] is False
    buyer = completed_order(products=[product]).buyer
    link = client_for(buyer).get(f"/api/v1/marketplace/download/{product.id}").json()["url"]
    assert api_client.get(link.replace("http://testserver", "")).status_code == 404


def test_a_track_product_downloads_the_tracks_audio(client_for, api_client):
    track = TrackFactory(with_file=True, title="Night Drive")
    product = ProductFactory(
        seller=track.creator, product_type=Product.Type.TRACK, track=track, title="Night Drive"
    )
    assert api_client.get(f"/api/v1/marketplace/products/{product.id}").json()["has_file"] is True
    buyer = completed_order(products=[product]).buyer

    body, response = fetch(client_for(buyer), api_client, product)

    assert body == wav_bytes()
    assert response["Content-Type"] == "audio/wav"


def test_every_fetch_checks_the_licence(client_for, api_client):
    product = ProductFactory()
    send(client_for(product.seller), product, "kit.pdf", PDF)
    order = completed_order(products=[product])
    url = client_for(order.buyer).get(f"/api/v1/marketplace/download/{product.id}").json()["url"]
    path = url.replace("http://testserver", "")
    assert api_client.get(path).status_code == 200

    License.objects.filter(order=order).update(suspended_at=timezone.now())

    response = api_client.get(path)
    assert response.status_code == 403
    assert response.json()["code"] == "no_active_license"
