import socket
import socketserver
import threading

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tokens import issue_tokens
from tests.factories import AdminFactory, CreatorFactory, UserFactory
from tests.fakes.clamd import FakeClamd


@pytest.fixture(autouse=True)
def _isolated_cache_and_media(settings, tmp_path):
    """Each test starts with an empty cache (throttles, semaphores) and its own media dir."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Tests make many users: a fast hasher (production keeps Django's PBKDF2 default).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _ledger_stays_consistent(request):
    """After every test that touched the database, every seller balance still equals the sum
    of its ledger entries (what ``manage.py check_ledger`` verifies in production)."""
    uses_db = bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    ) or request.node.get_closest_marker("django_db")
    if uses_db:
        # Set the database up through this fixture, so it is torn down after the check.
        request.getfixturevalue("_django_db_helper")
    yield
    if uses_db:
        from payments.ledger import ledger_differences

        assert ledger_differences() == []


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for():
    """``client_for(user)`` → an APIClient authenticated with a real access token."""

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
        return client

    return make


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def creator(db):
    return CreatorFactory()


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def psp(settings):
    """A fake Hyperswitch on a local port, wired into the settings.

    After the test, every request the API sent must have passed Hyperswitch's published request
    schema, and every answer the fake gave must have passed the response schema: a test that
    looked green while the API sent a field Hyperswitch rejects fails here, loudly."""
    from tests.fakes.psp import RunningPSP

    with RunningPSP() as fake:
        settings.HYPERSWITCH_BASE_URL = fake.url
        settings.HYPERSWITCH_API_KEY = fake.api_key
        settings.PSP_TIMEOUT = 0.5
        yield fake
    assert fake.violations == [], "requests Hyperswitch would reject (400 IR_06)"
    assert fake.response_errors == [], "the fake answered outside Hyperswitch's schema"


@pytest.fixture
def post_webhook(api_client, settings):
    """``post_webhook(payload_dict_or_bytes, signature=None)`` signed with the real secret."""
    import json

    from payments.intake.webhooks import sign

    def post(payload, *, signature: str | None = None, secret: str | None = None):
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {}
        sig = signature if signature is not None else sign(raw, secret)
        if sig != "":
            headers["HTTP_X_WEBHOOK_SIGNATURE_512"] = sig
        return api_client.generic(
            "POST", "/api/v1/webhooks/hyperswitch", raw, content_type="application/json", **headers
        )

    return post


@pytest.fixture
def fake_clamd(settings):
    """A real TCP clamd stand-in on 127.0.0.1; CLAMAV_ADDRESS points at it."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FakeClamd)
    server.daemon_threads = True
    server.scanned = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address
    settings.CLAMAV_ADDRESS = f"{host}:{port}"
    settings.CLAMAV_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_clamd_unix(settings, tmp_path):
    """The same stand-in on a unix socket; CLAMAV_ADDRESS is the socket's path."""
    path = str(tmp_path / "clamd.sock")
    server = socketserver.ThreadingUnixStreamServer(path, FakeClamd)
    server.daemon_threads = True
    server.scanned = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CLAMAV_ADDRESS = f"unix://{path}"
    settings.CLAMAV_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def dead_clamd_address(settings):
    """An address where nothing listens (a port just freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CLAMAV_ADDRESS = f"127.0.0.1:{port}"
    settings.CLAMAV_TIMEOUT = 2
    return settings.CLAMAV_ADDRESS
