"""A real S3-compatible server (moto's server mode, from PyPI) on 127.0.0.1, in its own
process: the application reaches it over HTTP exactly as it reaches MinIO or S3."""

import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from veza.config import media_storage

ACCESS_KEY = "veza-test-key"
SECRET_KEY = "veza-test-secret"
REGION = "eu-west-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """The endpoint URL of a moto server started for this test session."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{endpoint}/moto-api/", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"moto server did not start on {endpoint}")
            time.sleep(0.2)
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture
def s3_media(s3_server, settings, monkeypatch):
    """Uploads go to a fresh bucket of the S3 server, configured as an operator would:
    through ``MEDIA_STORAGE_URL``. Returns the URL (what a second node would be given)."""
    bucket = f"veza-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    url = f"s3://{bucket}/media?endpoint_url={s3_server}&region={REGION}"
    storage, problem = media_storage(url=url)
    assert problem is None
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    return {"url": url, "bucket": bucket, "endpoint": s3_server}
