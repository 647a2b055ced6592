"""The replica router on a real streaming replica, through PgBouncer and the balancer."""

import time

import httpx
import pytest

from tests.cluster.conftest import register


@pytest.fixture
def paused_replay(cluster, primary, replica_db):
    """The replica receives WAL but replays none of it: what it serves stays as it was."""
    # A fresh write replayed first, so the replica's last replay is recent (lag counts from it).
    primary.execute("SELECT pg_logical_emit_message(false, 'veza-test', 'tick')")
    primary.execute("CREATE TABLE IF NOT EXISTS cluster_test_tick (at timestamptz)")
    primary.execute("INSERT INTO cluster_test_tick VALUES (now())")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        replayed = replica_db.execute(
            "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]
        ).fetchone()[0]
        if replayed:
            break
        time.sleep(0.05)
    replica_db.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        replica_db.execute("SELECT pg_wal_replay_resume()")


def _playlist(client: httpx.Client, account: dict, title: str) -> httpx.Response:
    response = client.post(
        "/api/v1/playlists", json={"title": title, "is_public": True}, headers=account["headers"]
    )
    assert response.status_code == 201, response.text
    return response


def test_a_catalogue_change_through_replica_a_is_seen_at_once_through_replica_b(cluster):
    with (
        httpx.Client(base_url=cluster["CLUSTER_WEB_A"], timeout=10) as web_a,
        httpx.Client(base_url=cluster["CLUSTER_WEB_B"], timeout=10) as web_b,
    ):
        owner = register(web_a, "owner")
        playlist = _playlist(web_a, owner, "Before").json()
        # Read once through B, so that any per-process cache there would now hold "Before".
        first = web_b.get(f"/api/v1/playlists/{playlist['id']}", headers=owner["headers"])
        assert first.status_code == 200 and first.json()["title"] == "Before"

        changed = web_a.patch(
            f"/api/v1/playlists/{playlist['id']}",
            json={"title": "After"},
            headers=owner["headers"],
        )
        assert changed.status_code == 200, changed.text
        # Its author reads its write through the other replica at once (read-your-writes:
        # the key is in Redis, shared by both web replicas, not in either process).
        seen = web_b.get(f"/api/v1/playlists/{playlist['id']}", headers=owner["headers"])
        assert seen.status_code == 200
        assert seen.json()["title"] == "After"
        listed = web_b.get("/api/v1/playlists", params={"page_size": 100}, headers=owner["headers"])
        assert "After" in [p["title"] for p in listed.json()["results"]]


def test_a_write_is_read_back_by_its_author_while_the_replica_has_not_replayed_it(
    cluster, balancer, paused_replay
):
    author = register(balancer, "author")
    created = _playlist(balancer, author, "Only on the primary yet").json()
    path = f"/api/v1/playlists/{created['id']}"

    # The author (its bearer token's user, on whichever web replica) reads the primary.
    mine = balancer.get(path, headers=author["headers"])
    assert mine.status_code == 200, mine.text
    assert mine.json()["title"] == "Only on the primary yet"
    # A stranger's catalogue read goes to the replica, which has not replayed the write:
    # proof that catalogue reads really are served by the replica.
    with httpx.Client(base_url=cluster["CLUSTER_URL"], timeout=10) as stranger:
        assert stranger.get(path).status_code == 404


def test_a_lagging_replica_is_skipped_and_named_by_readyz(cluster, balancer, paused_replay):
    author = register(balancer, "lag")
    created = _playlist(balancer, author, "Lagging").json()
    path = f"/api/v1/playlists/{created['id']}"
    with httpx.Client(base_url=cluster["CLUSTER_URL"], timeout=10) as stranger:
        # REPLICA_MAX_LAG_SECONDS is 3 in the cluster: past it, catalogue reads use the primary.
        deadline = time.monotonic() + 15
        while stranger.get(path).status_code != 200:
            assert time.monotonic() < deadline, "the lagging replica was never skipped"
            time.sleep(0.5)
        for web in (cluster["CLUSTER_WEB_A"], cluster["CLUSTER_WEB_B"]):
            ready = httpx.get(web + "/readyz", timeout=10)
            assert ready.status_code == 200  # the primary serves; the replica is named
            replica = ready.json()["checks"]["replicas"]["replica_1"]
            assert replica["status"] == "lagging" and replica["lag_seconds"] > 3
            status = httpx.get(web + "/status", timeout=10).json()
            assert status["dependencies"]["replicas"]["replica_1"]["status"] == "lagging"


def test_the_replica_is_back_in_use_once_it_catches_up(cluster, balancer):
    deadline = time.monotonic() + 15
    while True:
        replica = balancer.get("/readyz").json()["checks"]["replicas"]["replica_1"]
        if replica["status"] == "ok":
            break
        assert time.monotonic() < deadline, replica
        time.sleep(0.5)
    assert replica["lag_seconds"] < 3
