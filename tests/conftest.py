import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tokens import issue_tokens
from tests.factories import AdminFactory, CreatorFactory, UserFactory


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
    """A fake Hyperswitch on a local port, wired into the settings."""
    from tests.fakes.psp import RunningPSP

    with RunningPSP() as fake:
        settings.HYPERSWITCH_BASE_URL = fake.url
        settings.HYPERSWITCH_API_KEY = fake.api_key
        settings.PSP_TIMEOUT = 0.5
        yield fake


@pytest.fixture
def post_webhook(api_client, settings):
    """``post_webhook(payload_dict_or_bytes, signature=None)`` signed with the real secret."""
    import json

    from payments.webhooks import sign

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
