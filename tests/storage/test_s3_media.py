"""Media beyond one machine: uploads go to an S3-compatible object store through Django's
storage API, downloads come back through the API (licence-checked on every fetch), and
another node configured with the same MEDIA_STORAGE_URL reads what this one stored."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from marketplace.models import License, Product
from tests.factories import CreatorFactory
from tests.marketplace.factories import ProductFactory, completed_order
from tests.storage.conftest import s3_client
from tests.tracks.factories import wav_bytes
from tracks.models import Track
from veza.config import media_storage

pytestmark = [pytest.mark.s3, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n" + b"licence terms " * 200 + b"\n%%EOF\n"


def objects(s3_media) -> dict[str, bytes]:
    client = s3_client(s3_media["endpoint"])
    listing = client.list_objects_v2(Bucket=s3_media["bucket"]).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=s3_media["bucket"], Key=item["Key"])["Body"].read()
        for item in listing
    }


def local_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload_track(client, content: bytes):
    return client.post(
        "/api/v1/tracks",
        {"file": SimpleUploadedFile("take.wav", content, "audio/wav"), "title": "Take"},
        format="multipart",
    )


def test_a_track_uploaded_through_the_api_is_in_the_bucket_and_downloads_back(
    s3_media, client_for, settings
):
    creator = CreatorFactory()
    client = client_for(creator)
    content = wav_bytes(seconds=0.5)

    response = upload_track(client, content)

    assert response.status_code == 201, response.content
    track = Track.objects.get(pk=response.json()["id"])
    assert objects(s3_media) == {f"media/{track.file.name}": content}
    assert local_files(settings) == []  # nothing on this node's disk

    download = client.get(f"/api/v1/tracks/{track.id}/download")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content


def test_a_product_file_uploaded_through_the_api_downloads_for_the_licence_holder(
    s3_media, client_for, api_client
):
    product = ProductFactory(product_type=Product.Type.PACK, title="Terms")
    response = client_for(product.seller).post(
        f"/api/v1/marketplace/products/{product.id}/file",
        {"file": SimpleUploadedFile("terms.pdf", PDF)},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert objects(s3_media) == {f"media/{product.file.name}": PDF}

    order = completed_order(products=[product])
    link = client_for(order.buyer).get(f"/api/v1/marketplace/download/{product.id}").json()
    path = link["url"].replace("http://testserver", "")
    fetched = api_client.get(path)
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content) == PDF

    License.objects.filter(order=order).update(revoked_at=timezone.now())
    assert api_client.get(path).status_code == 403


def test_a_second_node_with_the_same_settings_reads_the_file(s3_media, client_for):
    content = wav_bytes(seconds=0.3)
    response = upload_track(client_for(CreatorFactory()), content)
    assert response.status_code == 201
    name = Track.objects.get(pk=response.json()["id"]).file.name

    # A fresh storage instance built from the same settings, as another web node builds it.
    other_node = storages.create_storage(media_storage(url=s3_media["url"])[0])
    assert other_node is not default_storage._wrapped
    with other_node.open(name, "rb") as handle:
        assert handle.read() == content

    # And another process, configured only by the environment, as a worker on another machine.
    code = (
        "import hashlib, json; from django.core.files.storage import default_storage as s; "
        f"f = s.open({name!r}, 'rb'); print(json.dumps(hashlib.sha256(f.read()).hexdigest()))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL"))}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "veza.settings",
            "APP_ENV": "test",
            "UPLOAD_DIR": "/nonexistent/other-node",
            "MEDIA_STORAGE_URL": s3_media["url"],
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == hashlib.sha256(content).hexdigest()


def test_presigned_downloads_redirect_to_the_object_store_after_the_licence_check(
    s3_media, client_for, api_client, settings
):
    settings.MEDIA_PRESIGNED_DOWNLOAD_SECONDS = 60
    product = ProductFactory(product_type=Product.Type.SAMPLE, title="Snare One")
    client_for(product.seller).post(
        f"/api/v1/marketplace/products/{product.id}/file",
        {"file": SimpleUploadedFile("snare.wav", wav_bytes())},
        format="multipart",
    )
    order = completed_order(products=[product])
    link = client_for(order.buyer).get(f"/api/v1/marketplace/download/{product.id}").json()
    path = link["url"].replace("http://testserver", "")

    response = api_client.get(path)

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(s3_media["endpoint"]) and "Signature" in location
    fetched = httpx.get(location, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == wav_bytes()
    assert 'filename="snare-one.wav"' in fetched.headers["content-disposition"]

    License.objects.filter(order=order).update(suspended_at=timezone.now())
    refused = api_client.get(path)
    assert refused.status_code == 403
    assert "Location" not in refused


def test_a_deleted_track_leaves_no_object_and_a_missing_object_is_404(
    s3_media, client_for, api_client, django_capture_on_commit_callbacks
):
    creator = CreatorFactory()
    client = client_for(creator)
    kept = Track.objects.get(pk=upload_track(client, wav_bytes()).json()["id"])
    gone = Track.objects.get(pk=upload_track(client, wav_bytes(seconds=0.2)).json()["id"])

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/tracks/{gone.id}").status_code == 204

    assert set(objects(s3_media)) == {f"media/{kept.file.name}"}
    default_storage.delete(kept.file.name)
    response = client.get(f"/api/v1/tracks/{kept.id}/download")
    assert response.status_code == 404
    assert response.json()["code"] == "file_missing"
