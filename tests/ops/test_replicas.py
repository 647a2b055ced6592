"""The replica router on one machine: catalogue reads on a replica, read-your-writes, replicas
that are down or not replicas at all skipped, `/readyz` naming each one.

The replica alias here reads the test database itself (as the test runner's MIRROR does), so
the routing is real and observable (which connection ran the queries) without a second server;
replay lag on a real streaming replica is tested against the cluster (tests/cluster).
"""

import time

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tokens import issue_tokens
from tests.factories import UserFactory
from tests.ops.conftest import free_port
from tests.tracks.factories import TrackFactory
from veza import config
from veza.replicas import STICKY_COOKIE, probes

ALIAS, DEAD = "replica_1", "replica_2"
MIDDLEWARE = "veza.replicas.CatalogueReadMiddleware"

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", ALIAS, DEAD])


@pytest.fixture(scope="module", autouse=True)
def _replica_aliases(django_db_setup, django_db_blocker, tmp_path_factory):
    """replica_1, a second connection to the test database (as a streaming replica would be,
    and as the test runner's MIRROR is), and replica_2 where no database answers. Module-scoped:
    the aliases must exist before each test's database set-up lists the ones it may use."""
    default = dict(connections["default"].settings_dict)
    dead = {**default, "TEST": {"MIRROR": "default"}}
    if default["ENGINE"].endswith("postgresql"):
        dead.update(HOST="127.0.0.1", PORT=str(free_port()), OPTIONS={"connect_timeout": 1})
    else:
        missing = tmp_path_factory.mktemp("replicas") / "no-such-dir" / "db.sqlite3"
        dead.update(NAME=str(missing), OPTIONS={})
    configured = {
        "default": connections.settings["default"],
        ALIAS: {**default, "TEST": {"MIRROR": "default"}},
        DEAD: dead,
    }
    configured = connections.configure_settings(configured)
    for alias in (ALIAS, DEAD):
        connections.settings[alias] = configured[alias]
    yield
    for alias in (ALIAS, DEAD):
        connections[alias].close()
        del connections.settings[alias]
        if hasattr(connections._connections, alias):
            delattr(connections._connections, alias)
    probes.forget()


@pytest.fixture
def replica(settings):
    """The router and the middleware switched on, as DATABASE_REPLICA_URLS does at start-up."""
    settings.DATABASE_ROUTERS = ["veza.replicas.ReplicaRouter"]
    middleware = list(settings.MIDDLEWARE)
    auth = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    settings.MIDDLEWARE = [*middleware[: auth + 1], MIDDLEWARE, *middleware[auth + 1 :]]
    probes.forget()
    yield ALIAS
    probes.forget()


@pytest.fixture
def sqlite_mirror(replica):
    """On PostgreSQL the test database is a primary, which the probe rightly refuses to read
    (test_a_database_that_is_not_in_recovery_is_never_read_as_a_replica); the routing itself is
    shown on SQLite here and on a real streaming replica in tests/cluster."""
    if connections["default"].vendor == "postgresql":
        pytest.skip("the test database is a primary, never read as a replica")
    return replica


def _replica_queries(client: APIClient, path: str) -> tuple[object, int]:
    with CaptureQueriesContext(connections[ALIAS]) as replica_queries:
        response = client.get(path)
    return response, len(replica_queries.captured_queries)


def _bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
    return client


def test_the_public_track_list_and_detail_are_read_from_the_replica(sqlite_mirror):
    track = TrackFactory(title="Read me from the replica")
    client = APIClient()

    response, on_replica = _replica_queries(client, "/api/v1/tracks")
    assert response.status_code == 200, response.content
    assert [t["id"] for t in response.json()["results"]] == [str(track.pk)]
    assert on_replica > 0

    response, on_replica = _replica_queries(client, f"/api/v1/tracks/{track.pk}")
    assert response.status_code == 200
    assert response.json()["title"] == "Read me from the replica"
    assert on_replica > 0


def test_anything_but_the_catalogue_reads_the_primary(sqlite_mirror):
    user = UserFactory()
    response, on_replica = _replica_queries(_bearer_client(user), "/api/v1/auth/me")
    assert response.status_code == 200
    assert on_replica == 0
    response, on_replica = _replica_queries(_bearer_client(user), "/api/v1/marketplace/orders")
    assert response.status_code == 200
    assert on_replica == 0


def test_after_a_write_the_client_reads_the_primary_then_the_replica_again(sqlite_mirror, settings):
    settings.REPLICA_STICKY_SECONDS = 1
    user = UserFactory()
    writer = _bearer_client(user)

    created = writer.post("/api/v1/playlists", {"title": "Fresh", "is_public": True})
    assert created.status_code == 201, created.content
    assert STICKY_COOKIE in created.cookies

    # The same client (its cookie), then the same user without the cookie (another device,
    # another web replica: the key is in the shared cache), both read the primary...
    response, on_replica = _replica_queries(writer, "/api/v1/playlists")
    assert response.status_code == 200
    assert created.json()["id"] in [p["id"] for p in response.json()["results"]]
    assert on_replica == 0
    response, on_replica = _replica_queries(_bearer_client(user), "/api/v1/playlists")
    assert (response.status_code, on_replica) == (200, 0)
    # ... while a stranger reads the replica.
    response, on_replica = _replica_queries(APIClient(), "/api/v1/playlists")
    assert response.status_code == 200 and on_replica > 0

    time.sleep(1.2)
    response, on_replica = _replica_queries(_bearer_client(user), "/api/v1/playlists")
    assert response.status_code == 200 and on_replica > 0


def test_a_forged_sticky_cookie_is_ignored(sqlite_mirror):
    TrackFactory()
    client = APIClient()
    client.cookies[STICKY_COOKIE] = str(time.time() + 3600)  # not signed
    response, on_replica = _replica_queries(client, "/api/v1/tracks")
    assert response.status_code == 200 and on_replica > 0


def test_a_replica_that_is_down_is_skipped_and_named_by_readyz(replica):
    track = TrackFactory()
    # Served by replica_1 (or, on PostgreSQL where replica_1 is refused too, the primary).
    response = APIClient().get(f"/api/v1/tracks/{track.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == str(track.pk)

    ready = APIClient().get("/readyz")
    assert ready.status_code == 200, ready.content  # catalogue reads fall back to the primary
    assert ready.json()["checks"]["replicas"][DEAD]["status"] == "down"
    status = APIClient().get("/status").json()
    assert status["dependencies"]["replicas"][DEAD]["status"] == "down"
    assert status["status"] == "degraded"


@pytest.mark.postgres
def test_a_database_that_is_not_in_recovery_is_never_read_as_a_replica(replica):
    if connections["default"].vendor != "postgresql":
        pytest.skip("pg_is_in_recovery() needs PostgreSQL")
    TrackFactory()
    response, on_replica = _replica_queries(APIClient(), "/api/v1/tracks")
    assert response.status_code == 200
    assert on_replica == 1  # the probe's one query; no catalogue query: it is a primary
    ready = APIClient().get("/readyz").json()
    assert ready["checks"]["replicas"][ALIAS]["status"] == "down"
    assert "not in recovery" in ready["checks"]["replicas"][ALIAS]["error"]


def test_replica_settings_are_checked_at_start_up(settings):
    values = {
        name: getattr(settings, name)
        for name in dir(settings._wrapped)
        if name.isupper() and not name.startswith("_")
    }
    # As at start-up without DATABASE_REPLICA_URLS (this module adds replica aliases).
    values["DATABASES"] = {"default": values["DATABASES"]["default"]}
    assert not [p for p in config.problems(values) if "REPLICA" in p or "VISIBILITY" in p]
    values.update(
        REPLICA_STICKY_SECONDS=-1,
        REPLICA_MAX_LAG_SECONDS=0,
        DATABASE_REPLICA_URLS=["sqlite:////tmp/replica.sqlite3"],
        DATABASES={
            **values["DATABASES"],
            "replica_1": {"ENGINE": "django.db.backends.sqlite3"},
        },
        CELERY_VISIBILITY_TIMEOUT=600,
        REDIS_URL="",
    )
    found = "\n".join(config.problems(values))
    assert "REPLICA_STICKY_SECONDS" in found
    assert "REPLICA_MAX_LAG_SECONDS" in found
    assert "replica_1 is django.db.backends.sqlite3" in found
    assert "CELERY_VISIBILITY_TIMEOUT (600 s)" in found
    assert "DATABASE_REPLICA_URLS needs REDIS_URL" in found


@pytest.mark.postgres
def test_a_write_request_leaves_the_primarys_wal_position_for_every_reader(replica, settings):
    if connections["default"].vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("the WAL position needs PostgreSQL, and Redis to share it")
    from django_redis import get_redis_connection

    from veza.replicas import WRITE_POSITION_KEY, last_write_position, record_write_position

    store = get_redis_connection("default")
    store.delete(WRITE_POSITION_KEY)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn() - '0/0'")
        before = int(cursor.fetchone()[0])
    try:
        created = _bearer_client(UserFactory()).post("/api/v1/playlists", {"title": "Pos"})
        assert created.status_code == 201
        assert last_write_position() > before
        # Two requests finishing out of order never move the position back.
        store.set(WRITE_POSITION_KEY, 2**60)
        record_write_position()
        assert last_write_position() == 2**60
    finally:
        store.delete(WRITE_POSITION_KEY)
