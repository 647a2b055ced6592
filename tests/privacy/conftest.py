import pytest

# The object-store fixtures of tests/storage: a moto server and a fresh bucket per test.
from tests.storage.conftest import s3_media, s3_server  # noqa: F401


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """``with on_commit():`` runs what the request queued (tasks run eagerly, no broker)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run
