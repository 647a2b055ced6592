"""The replica router on a real streaming replica, through PgBouncer and the balancer."""

import time

import httpx
import pytest

from tests.cluster.conftest import login, register
from tests.tracks.factories import wav_bytes


def _wait_replayed(primary, replica_db) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    position = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + 10
    while not replica_db.execute(
        "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position]
    ).fetchone()[0]:
        assert time.monotonic() < deadline, "the replica does not replay"
        time.sleep(0.05)


@pytest.fixture
def paused_replay(cluster, primary, replica_db):
    """The replica receives WAL but replays none of it: what it serves stays as it was."""
    _wait_replayed(primary, replica_db)
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


def test_a_stranger_sees_a_track_changed_through_a_at_once_on_b(cluster, app_env, primary):
    """The anonymous track list is cached (tracks.list_cache): in Redis, shared by the
    replicas, and dropped on change -- no page from a per-process cache outlives a change."""
    with (
        httpx.Client(base_url=cluster["CLUSTER_WEB_A"], timeout=10) as web_a,
        httpx.Client(base_url=cluster["CLUSTER_WEB_B"], timeout=10) as web_b,
    ):
        creator = register(web_a, "artist")
        primary.execute("UPDATE accounts_user SET role = 'creator' WHERE id = %s", [creator["id"]])
        login(web_a, creator)
        uploaded = web_a.post(
            "/api/v1/tracks",
            files={"file": ("song.wav", wav_bytes(), "audio/wav")},
            data={"title": "Old title"},
            headers=creator["headers"],
        )
        assert uploaded.status_code == 201, uploaded.text
        track_id = uploaded.json()["id"]
        # The stream server says it is transcoded: now it is public and playable.
        ready = web_a.post(
            f"/api/v1/internal/tracks/{track_id}/stream-ready",
            json={},
            headers={"X-Internal-API-Key": app_env["STREAM_SERVER_INTERNAL_API_KEY"]},
        )
        assert ready.status_code == 200, ready.text

        def stranger_titles() -> set[str]:
            listed = web_b.get("/api/v1/tracks", params={"page_size": 100})
            assert listed.status_code == 200
            return {t["title"] for t in listed.json()["results"] if t["id"] == track_id}

        # A stranger on B lists it at once, which also fills the shared page cache.
        assert stranger_titles() == {"Old title"}
        assert stranger_titles() == {"Old title"}  # from the cache now

        changed = web_a.patch(
            f"/api/v1/tracks/{track_id}", json={"title": "New title"}, headers=creator["headers"]
        )
        assert changed.status_code == 200, changed.text
        # At once: neither a page cached before the change nor one filled from the replica
        # before it replayed the change (the read waits for the write's WAL position).
        assert stranger_titles() == {"New title"}


def test_catalogue_reads_use_the_replica_and_nobody_reads_behind_a_write(
    cluster, balancer, primary, replica_db
):
    author = register(balancer, "author")
    created = _playlist(balancer, author, "Original").json()
    path = f"/api/v1/playlists/{created['id']}"
    _wait_replayed(primary, replica_db)
    replica_db.execute("SELECT pg_wal_replay_pause()")
    try:
        # A change the application did not make (no write position recorded): only the
        # primary has it, so what strangers read is what the replica still holds -- proof that
        # catalogue reads really are served by the replica.
        primary.execute(
            "UPDATE playlists_playlist SET description = 'edited in SQL' WHERE id = %s",
            [created["id"]],
        )
        with httpx.Client(base_url=cluster["CLUSTER_URL"], timeout=10) as stranger:
            assert stranger.get(path).json()["description"] != "edited in SQL"

            # A write through the application, while the replica still replays nothing: its
            # author and any stranger read it at once, on either web replica (the primary
            # serves until the replica has replayed the write's position).
            changed = balancer.patch(path, json={"title": "Renamed"}, headers=author["headers"])
            assert changed.status_code == 200, changed.text
            for _ in range(4):  # both web replicas, twice
                seen = stranger.get(path)
                assert seen.status_code == 200
                assert seen.json()["title"] == "Renamed", seen.headers["x-served-by"]
                mine = balancer.get(path, headers=author["headers"])
                assert mine.json()["title"] == "Renamed"
    finally:
        replica_db.execute("SELECT pg_wal_replay_resume()")


def test_a_lagging_replica_is_skipped_and_named_by_readyz(cluster, balancer, paused_replay):
    author = register(balancer, "lag")  # writes the replica will not replay
    created = _playlist(balancer, author, "Lagging").json()
    # REPLICA_MAX_LAG_SECONDS is 3 in the cluster: past it, the replica is named lagging.
    deadline = time.monotonic() + 15
    for web in (cluster["CLUSTER_WEB_A"], cluster["CLUSTER_WEB_B"]):
        while True:
            ready = httpx.get(web + "/readyz", timeout=10)
            assert ready.status_code == 200  # the primary serves; the replica is only named
            replica = ready.json()["checks"]["replicas"]["replica_1"]
            if replica["status"] == "lagging":
                break
            assert time.monotonic() < deadline, replica
            time.sleep(0.25)
        assert replica["lag_seconds"] > 3
        status = httpx.get(web + "/status", timeout=10).json()
        assert status["dependencies"]["replicas"]["replica_1"]["status"] == "lagging"
    with httpx.Client(base_url=cluster["CLUSTER_URL"], timeout=10) as stranger:
        seen = stranger.get(f"/api/v1/playlists/{created['id']}")
        assert seen.status_code == 200 and seen.json()["title"] == "Lagging"


def test_the_replica_is_back_in_use_once_it_catches_up(cluster, balancer):
    deadline = time.monotonic() + 15
    while True:
        replica = balancer.get("/readyz").json()["checks"]["replicas"]["replica_1"]
        if replica["status"] == "ok":
            break
        assert time.monotonic() < deadline, replica
        time.sleep(0.5)
    assert replica["lag_seconds"] < 3
