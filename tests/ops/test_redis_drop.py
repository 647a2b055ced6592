"""Redis goes away and comes back: the API keeps answering, readiness says why it is not
ready, and rate limiting resumes once Redis is back."""

import logging
import shutil
import subprocess

import pytest

from tests.ops.conftest import free_port, start, stop, tail, wait_for

REDIS_SERVER = shutil.which("redis-server")

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not on PATH (apt-get install redis-server)"
)


class DisposableRedis:
    """A redis-server of our own on a free port, with nothing persisted."""

    def __init__(self, log_dir):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = log_dir / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = start(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            env={},
            log=self.log,
        )
        ready = wait_for(self._answers, timeout=10, interval=0.1)
        assert ready, f"redis-server did not start:\n{tail(self.log)}"

    def kill(self) -> None:
        """An abrupt drop (SIGKILL), not a clean shutdown."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def _answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.ConnectionError:
            return False


@pytest.fixture
def redis_server(tmp_path):
    server = DisposableRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        stop(server.process)


@pytest.fixture
def redis_cache(settings, redis_server):
    """The cache (throttles, readiness) on the disposable Redis, configured as in production."""
    settings.REDIS_URL = redis_server.url
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    # Assigning CACHES fires setting_changed: Django closes and forgets its cache connections.
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": True,
            },
            "KEY_PREFIX": "veza-redis-drop-test",
        }
    }
    settings.DISABLE_RATE_LIMIT_FOR_TESTS = False
    settings.RATE_LIMIT_LIMIT = 3
    settings.RATE_LIMIT_WINDOW = 60
    return redis_server


def _check_username(client):
    return client.get("/api/v1/auth/check-username", {"username": "nobody-here"})


def test_api_survives_a_redis_drop_and_throttles_again_once_it_is_back(
    api_client, db, redis_cache, caplog
):
    assert api_client.get("/readyz").status_code == 200
    assert _check_username(api_client).status_code == 200  # 1 of 3

    redis_cache.kill()
    with caplog.at_level(logging.WARNING):
        # Past the limit of 3, and still served: the rate limit fails open.
        statuses = [_check_username(api_client).status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert any(
        r.name.startswith("django_redis") and r.levelno >= logging.WARNING for r in caplog.records
    ), "the ignored Redis failure was not logged"

    ready = api_client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["cache"]
    assert "cache" in ready.json()["detail"]
    assert api_client.get("/healthz").status_code == 200  # liveness touches nothing external

    redis_cache.start()  # same port, empty: the earlier count is gone
    assert wait_for(lambda: api_client.get("/readyz").status_code == 200, timeout=10), (
        "/readyz did not recover after Redis came back"
    )
    statuses = [_check_username(api_client).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
