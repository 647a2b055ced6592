import random
import threading

import pytest
from django.db import close_old_connections, connection

from playlists import services
from playlists.models import PlaylistTrack
from tests.playlists.factories import PlaylistFactory
from tests.tracks.factories import TrackFactory


def _order(playlist) -> list:
    return list(
        PlaylistTrack.objects.filter(playlist=playlist)
        .order_by("position")
        .values_list("position", "track_id")
    )


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 7, 42])
def test_positions_stay_dense_after_random_inserts_and_removals(seed):
    rng = random.Random(seed)
    playlist = PlaylistFactory()
    pool = TrackFactory.create_batch(15)
    model: list = []  # the expected order of track ids
    for _ in range(60):
        absent = [t for t in pool if t.id not in model]
        if model and (not absent or rng.random() < 0.4):
            victim = rng.choice(model)
            services.remove_track(playlist=playlist, track_id=victim)
            model.remove(victim)
        else:
            track = rng.choice(absent)
            position = rng.choice([None, rng.randint(0, len(model) + 3)])
            services.add_track(
                playlist=playlist, track=track, added_by=playlist.owner, position=position
            )
            index = len(model) if position is None else min(position, len(model))
            model.insert(index, track.id)
        rows = _order(playlist)
        assert [p for p, _ in rows] == list(range(len(model)))
        assert [t for _, t in rows] == model


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_inserts_serialise_on_the_playlist_row():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    playlist = PlaylistFactory()
    tracks = TrackFactory.create_batch(12)
    barrier = threading.Barrier(len(tracks))
    errors: list[BaseException] = []

    def insert(track):
        try:
            barrier.wait(timeout=10)
            services.add_track(playlist=playlist, track=track, added_by=playlist.owner, position=0)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=insert, args=(t,)) for t in tracks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    rows = _order(playlist)
    assert [p for p, _ in rows] == list(range(len(tracks)))
    assert {t for _, t in rows} == {t.id for t in tracks}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_removals_and_inserts_keep_positions_dense():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    playlist = PlaylistFactory()
    initial = TrackFactory.create_batch(8)
    for track in initial:
        services.add_track(playlist=playlist, track=track, added_by=playlist.owner)
    newcomers = TrackFactory.create_batch(8)
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def work(action, track):
        try:
            barrier.wait(timeout=10)
            if action == "remove":
                services.remove_track(playlist=playlist, track_id=track.id)
            else:
                services.add_track(
                    playlist=playlist, track=track, added_by=playlist.owner, position=3
                )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    jobs = [("remove", t) for t in initial] + [("add", t) for t in newcomers]
    threads = [threading.Thread(target=work, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    rows = _order(playlist)
    assert [p for p, _ in rows] == list(range(8))
    assert {t for _, t in rows} == {t.id for t in newcomers}
