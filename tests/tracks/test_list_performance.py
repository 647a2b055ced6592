"""The track list at scale: fixed statement counts, a denormalised like counter kept right
under concurrency, indexes for the contract's orderings, and a count that does not scan."""

import threading

import pytest
from django.db import connection

from tests.factories import UserFactory
from tests.tracks.factories import TrackFactory, TrackLikeFactory
from tracks import services
from tracks.models import Track, TrackLike
from veza import pagination

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(creator):
    tracks = [TrackFactory(title=f"Song {i}") for i in range(25)]
    TrackFactory(creator=creator, is_public=False, title="Mine")
    for track in tracks[:5]:
        TrackLikeFactory(track=track)
    return tracks


def test_anonymous_first_page_costs_two_statements(
    api_client, catalogue, django_assert_num_queries
):
    with django_assert_num_queries(2):  # the bounded count and the page
        response = api_client.get("/api/v1/tracks?page_size=20")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert "count_is_estimate" not in body


def test_an_owner_of_hidden_tracks_page_costs_two_statements(
    client_for, creator, catalogue, django_assert_num_queries
):
    # The creator owns a private track, so their page is their own (never the shared one).
    TrackLike.objects.create(user=creator, track=catalogue[-1])
    client = client_for(creator)
    # The caller (first request only: then the authentication cache), whether they own a
    # hidden track (once per catalogue change), the bounded count and the page.
    with django_assert_num_queries(4):
        client.get("/api/v1/tracks?page_size=20")
    with django_assert_num_queries(2):  # the bounded count and the page
        response = client.get("/api/v1/tracks?page_size=20")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 26  # 25 public + the caller's private one
    liked = {t["id"] for t in body["results"] if t["liked_by_me"]}
    assert liked == {str(catalogue[-1].id)}


def test_a_listener_page_costs_one_statement_once_shared(
    client_for, catalogue, django_assert_num_queries
):
    listener = UserFactory()
    TrackLike.objects.create(user=listener, track=catalogue[-1])
    client = client_for(listener)
    client.get("/api/v1/tracks?page_size=20")
    with django_assert_num_queries(1):  # their likes among the page's rows (the caller: cached)
        response = client.get("/api/v1/tracks?page_size=20")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 25
    assert {t["id"] for t in body["results"] if t["liked_by_me"]} == {str(catalogue[-1].id)}


@pytest.mark.parametrize(
    "query",
    [
        "ordering=-like_count",
        "ordering=-play_count",
        "genre=electronic",
        "creator=CREATOR",
        "q=song",
        "page=2",
    ],
)
def test_every_ordering_and_filter_keeps_the_statement_count(
    api_client, catalogue, query, django_assert_num_queries
):
    statements = built_statements(query)
    query = query.replace("CREATOR", catalogue[0].creator.username)
    with django_assert_num_queries(statements):  # built once: the bounded count and the page
        response = api_client.get(f"/api/v1/tracks?{query}")
    assert response.status_code == 200
    assert response.json()["results"]
    with django_assert_num_queries(0):  # then the shared page, from the cache
        again = api_client.get(f"/api/v1/tracks?{query}")
    assert again.content == response.content


def built_statements(query: str) -> int:
    """A built page: the bounded count and the page; a creator named by username first has
    its id looked up (so the page query compares ``creator_id`` with a known value)."""
    return 3 if "creator=CREATOR" in query else 2


def test_an_unknown_creator_name_is_an_empty_page_in_one_statement(
    api_client, catalogue, django_assert_num_queries
):
    with django_assert_num_queries(1):  # the name's lookup; no count, no page
        response = api_client.get("/api/v1/tracks?creator=nobody-by-that-name")
    assert response.status_code == 200
    assert response.json()["count"] == 0 and response.json()["results"] == []


def test_a_creator_by_id_costs_what_any_filter_does(
    api_client, catalogue, django_assert_num_queries
):
    creator = catalogue[0].creator
    with django_assert_num_queries(2):
        response = api_client.get(f"/api/v1/tracks?creator={creator.pk}")
    assert response.status_code == 200
    ids = {row["creator"]["id"] for row in response.json()["results"]}
    assert ids == {str(creator.pk)}


@pytest.mark.parametrize("who", ["anonymous", "listener", "owner"])
@pytest.mark.parametrize(
    "query",
    [
        "",
        "ordering=-like_count",
        "ordering=-play_count",
        "genre=electronic",
        "creator=CREATOR",
        "q=song",
        "page=2",
    ],
)
def test_every_built_page_costs_two_statements_whoever_asks_three_for_a_creator_name(
    api_client, client_for, creator, catalogue, who, query, django_assert_num_queries, settings
):
    # Every list request built (no page cache): the bounded count and the page, for a visitor,
    # a listener and the owner of a private track alike — the caller comes from the
    # authentication cache once it has been seen.
    settings.TRACK_LIST_CACHE_SECONDS = 0
    client = {"anonymous": api_client, "listener": None, "owner": None}[who]
    if who != "anonymous":
        client = client_for(creator if who == "owner" else UserFactory())
    path = f"/api/v1/tracks?{query.replace('CREATOR', catalogue[0].creator.username)}"
    client.get(path)
    with django_assert_num_queries(built_statements(query)):
        response = client.get(path)
    assert response.status_code == 200
    assert response.json()["results"]


def test_ordering_by_like_count_reads_the_counter(api_client, catalogue):
    TrackLikeFactory(track=catalogue[3])
    body = api_client.get("/api/v1/tracks?ordering=-like_count&page_size=3").json()
    assert body["results"][0]["id"] == str(catalogue[3].id)
    assert body["results"][0]["like_count"] == 2


def test_like_and_unlike_move_the_counter_once(user):
    track = TrackFactory()
    assert services.like_track(track=track, user=user) is True
    assert services.like_track(track=track, user=user) is False  # idempotent
    track.refresh_from_db()
    assert track.like_count == 1
    services.unlike_track(track=track, user=user)
    services.unlike_track(track=track, user=user)  # already gone: no change
    track.refresh_from_db()
    assert track.like_count == 0
    assert not TrackLike.objects.filter(track=track).exists()


def test_like_endpoint_answers_the_denormalised_count(client_for, user):
    track = TrackFactory()
    TrackLikeFactory(track=track)
    response = client_for(user).post(f"/api/v1/tracks/{track.id}/like")
    assert response.status_code == 201
    assert response.json() == {"liked": True, "like_count": 2}
    track.refresh_from_db()
    assert track.like_count == 2


def test_list_indexes_match_the_contract_orderings_and_filters():
    names = {index.name for index in Track._meta.indexes}
    assert {
        "track_public_list_idx",
        "track_public_likes_idx",
        "track_public_plays_idx",
        "track_public_genre_idx",
        "track_creator_list_idx",
    } <= names


# --- count past the exact limit ----------------------------------------------------------


def test_count_is_exact_up_to_the_limit(api_client, catalogue, monkeypatch):
    monkeypatch.setattr(pagination.EstimatedCountPaginator, "exact_limit", 25)
    body = api_client.get("/api/v1/tracks").json()
    assert body["count"] == 25
    assert "count_is_estimate" not in body


def test_count_past_the_limit_is_flagged_as_an_estimate_on_postgres(
    api_client, catalogue, monkeypatch
):
    monkeypatch.setattr(pagination.EstimatedCountPaginator, "exact_limit", 10)
    body = api_client.get("/api/v1/tracks").json()
    if connection.vendor == "postgresql":
        assert body["count_is_estimate"] is True
        assert body["count"] >= 11
    else:  # SQLite has no planner estimate: it counts, exactly
        assert body["count"] == 25
        assert "count_is_estimate" not in body
    assert len(body["results"]) == 20


def test_estimated_count_is_reused_without_a_statement_on_postgres(
    api_client, catalogue, monkeypatch, django_assert_num_queries, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("planner estimates are PostgreSQL's")
    settings.TRACK_LIST_CACHE_SECONDS = 0  # the page itself must be read, its count not
    monkeypatch.setattr(pagination.EstimatedCountPaginator, "exact_limit", 10)
    first = api_client.get("/api/v1/tracks").json()
    with django_assert_num_queries(1):  # the page only: the estimate comes from the cache
        again = api_client.get("/api/v1/tracks").json()
    assert again["count"] == first["count"]
    assert again["count_is_estimate"] is True


def test_paginated_schema_declares_count_is_estimate(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    page = schema["components"]["schemas"]["PaginatedTrackOutputList"]
    assert page["properties"]["count_is_estimate"]["type"] == "boolean"
    assert "count_is_estimate" not in page.get("required", [])


@pytest.mark.postgres
def test_search_uses_the_trigram_index_on_postgres(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    with connection.cursor() as cursor:
        # On a test-sized table the planner may prefer any plain scan; forbid those so the
        # plan shows whether the search CAN use the trigram index (GIN: a bitmap scan).
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        sql, params = (
            Track.objects.filter(title__icontains="ong")
            .order_by()
            .values("pk")
            .query.sql_with_params()
        )
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_indexscan")
    assert "track_title_trgm_idx" in plan


def test_trigram_indexes_take_new_tracks_without_a_pending_list_on_postgres(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'track_%%_trgm_idx'"
        )
        options = dict(cursor.fetchall())
    assert set(options) == {"track_title_trgm_idx", "track_artist_trgm_idx", "track_album_trgm_idx"}
    assert all(value == ["fastupdate=off"] for value in options.values()), options


# --- concurrent likes ----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_likes_add_up_on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock races need PostgreSQL (CI runs them there)")
    track = TrackFactory()
    users = [UserFactory() for _ in range(12)]
    barrier = threading.Barrier(len(users) + 2)
    errors: list[Exception] = []

    def like(user, twice: bool) -> None:
        try:
            barrier.wait(timeout=10)
            services.like_track(track=track, user=user)
            if twice:
                services.like_track(track=track, user=user)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=like, args=(u, i % 2 == 0)) for i, u in enumerate(users)]
    # Two extra threads race the same user's like against the first ones.
    threads += [threading.Thread(target=like, args=(users[0], False)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    track.refresh_from_db()
    assert TrackLike.objects.filter(track=track).count() == 12
    assert track.like_count == 12


def test_a_low_estimate_never_cuts_pages_short_on_postgres(api_client, catalogue, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("planner estimates are PostgreSQL's")
    monkeypatch.setattr(pagination.EstimatedCountPaginator, "exact_limit", 10)
    monkeypatch.setattr(pagination, "planner_estimate", lambda queryset: 1)
    first = api_client.get("/api/v1/tracks?page_size=20").json()
    assert first["count"] == 11 and first["count_is_estimate"] is True
    assert len(first["results"]) == 20
    second = api_client.get("/api/v1/tracks?page_size=20&page=2")
    assert second.status_code == 200
    assert len(second.json()["results"]) == 5


def test_recount_repairs_like_counts_after_likes_removed_behind_the_services(user):
    from django.core.management import call_command

    track, untouched = TrackFactory(), TrackFactory()
    services.like_track(track=track, user=user)
    services.like_track(track=untouched, user=user)
    TrackLike.objects.filter(track=track).delete()  # as a cascade or the admin would
    call_command("recount_track_likes")
    track.refresh_from_db()
    untouched.refresh_from_db()
    assert track.like_count == 0
    assert untouched.like_count == 1
    assert services.recount_like_counts() == 0
