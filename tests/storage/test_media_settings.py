"""Where uploads are stored is read from the environment once, and refused when unusable."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from veza.config import FILE_STORAGE_BACKEND, S3_STORAGE_BACKEND, media_storage

ROOT = Path(__file__).resolve().parents[2]


def loaded(env: dict) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "MEDIA_STORAGE", "AWS_"))
    }
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['default']))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "veza.settings", "APP_ENV": "test", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_an_object_store_uploads_stay_on_the_local_disk():
    result = loaded({})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"BACKEND": FILE_STORAGE_BACKEND}


def test_media_storage_url_selects_the_s3_backend_with_its_options():
    result = loaded(
        {
            "MEDIA_STORAGE_URL": "s3://veza-media/uploads?endpoint_url=http://minio:9000"
            "&region=eu-west-1"
        }
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "BACKEND": S3_STORAGE_BACKEND,
        "OPTIONS": {
            "bucket_name": "veza-media",
            "location": "uploads",
            "endpoint_url": "http://minio:9000",
            "region_name": "eu-west-1",
            "addressing_style": "path",
            "default_acl": None,
            "querystring_auth": True,
        },
    }


def test_the_standard_aws_settings_select_the_s3_backend_too():
    result = loaded({"AWS_STORAGE_BUCKET_NAME": "veza-prod", "AWS_S3_REGION_NAME": "eu-central-1"})
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout)["OPTIONS"]
    assert (options["bucket_name"], options["region_name"]) == ("veza-prod", "eu-central-1")
    assert "endpoint_url" not in options  # AWS itself: virtual-hosted addressing stays


def test_credentials_in_the_url_are_decoded():
    storage, problem = media_storage(url="s3://AKIA%2Fx:se%40cret@bucket")
    assert problem is None
    assert storage["OPTIONS"]["access_key"] == "AKIA/x"
    assert storage["OPTIONS"]["secret_key"] == "se@cret"


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("ftp://bucket", "must look like s3://"),
        ("s3://", "must look like s3://"),
        ("s3://bucket?endpoint=http://x", "unknown parameter 'endpoint'"),
    ],
)
def test_an_unusable_media_storage_url_refuses_to_start(url, complaint):
    result = loaded({"MEDIA_STORAGE_URL": url})
    assert result.returncode != 0
    assert "MEDIA_STORAGE_URL" in result.stderr
    assert complaint in result.stderr
