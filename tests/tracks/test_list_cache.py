"""Anonymous track-list pages come from the cache until the catalogue changes."""

import pytest

from tests.factories import UserFactory
from tests.tracks.factories import TrackFactory
from tracks import services
from tracks.models import Track, TrackLike

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    return [TrackFactory(title=f"Song {i}") for i in range(3)]


def titles(response) -> list[str]:
    assert response.status_code == 200
    return [t["title"] for t in response.json()["results"]]


def test_a_repeated_anonymous_page_costs_no_statement(
    api_client, catalogue, django_assert_num_queries
):
    first = api_client.get("/api/v1/tracks")
    with django_assert_num_queries(0):
        again = api_client.get("/api/v1/tracks")
    assert again.json() == first.json()
    assert again["Content-Type"] == first["Content-Type"] == "application/json"


def test_each_query_string_is_its_own_page(api_client, catalogue):
    everything = titles(api_client.get("/api/v1/tracks"))
    assert len(everything) == 3
    assert titles(api_client.get("/api/v1/tracks?q=Song 1")) == ["Song 1"]


@pytest.mark.parametrize(
    "change",
    [
        lambda track, user: services.like_track(track=track, user=user),
        lambda track, user: services.update_track(
            track=track, changed_by=track.creator, data={"title": "Renamed"}
        ),
        lambda track, user: services.delete_track(track=track, deleted_by=track.creator),
    ],
    ids=["like", "update", "delete"],
)
def test_a_change_through_the_services_is_seen_at_once(
    api_client, catalogue, change, django_capture_on_commit_callbacks
):
    before = api_client.get("/api/v1/tracks?ordering=-like_count").json()
    with django_capture_on_commit_callbacks(execute=True):
        change(catalogue[1], UserFactory())
    after = api_client.get("/api/v1/tracks?ordering=-like_count").json()
    assert after != before
    stored = {t.title: t.like_count for t in Track.objects.all()}
    assert {t["title"]: t["like_count"] for t in after["results"]} == stored


def test_a_caller_owning_a_hidden_track_is_never_served_the_shared_page(
    api_client, client_for, creator, catalogue
):
    api_client.get("/api/v1/tracks")  # fills the shared entry
    TrackFactory(creator=creator, is_public=False, title="Mine")
    own = titles(client_for(creator).get("/api/v1/tracks"))
    assert "Mine" in own
    assert "Mine" not in titles(api_client.get("/api/v1/tracks"))


def test_a_listener_gets_the_shared_page_with_their_own_likes(
    api_client, client_for, catalogue, django_assert_num_queries
):
    shared = api_client.get("/api/v1/tracks").json()  # built by a visitor
    alice, bob = UserFactory(), UserFactory()
    TrackLike.objects.create(user=alice, track=catalogue[2])
    alice_client, bob_client = client_for(alice), client_for(bob)
    alice_client.get("/api/v1/tracks")  # learns that Alice owns nothing hidden
    with django_assert_num_queries(1):  # her likes among the shared rows (Alice: cached)
        alice_page = alice_client.get("/api/v1/tracks").json()
    bob_page = bob_client.get("/api/v1/tracks").json()
    liked = {t["id"] for t in alice_page["results"] if t["liked_by_me"]}
    assert liked == {str(catalogue[2].id)}
    assert not any(t["liked_by_me"] for t in bob_page["results"])
    assert not any(t["liked_by_me"] for t in api_client.get("/api/v1/tracks").json()["results"])
    strip = [{**t, "liked_by_me": False} for t in alice_page["results"]]
    assert strip == shared["results"] and alice_page["count"] == shared["count"]


def test_a_listener_building_the_page_never_leaks_their_likes_to_others(
    api_client, client_for, catalogue
):
    alice = UserFactory()
    TrackLike.objects.create(user=alice, track=catalogue[0])
    mine = client_for(alice).get("/api/v1/tracks").json()  # builds the shared entry
    assert [t["id"] for t in mine["results"] if t["liked_by_me"]] == [str(catalogue[0].id)]
    assert not any(t["liked_by_me"] for t in api_client.get("/api/v1/tracks").json()["results"])
    assert not any(
        t["liked_by_me"] for t in client_for(UserFactory()).get("/api/v1/tracks").json()["results"]
    )


def test_an_upload_shows_in_its_owners_list_at_once_and_nowhere_else(
    client_for, creator, catalogue, wav_upload, django_capture_on_commit_callbacks
):
    client = client_for(creator)
    assert titles(client.get("/api/v1/tracks")) == ["Song 2", "Song 1", "Song 0"]  # shared
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/tracks",
            {"file": wav_upload(), "title": "Just uploaded", "is_public": "true"},
            format="multipart",
        )
    assert response.status_code == 201
    assert response.json()["status"] == "processing"
    assert "Just uploaded" in titles(client.get("/api/v1/tracks"))  # their own, processing
    assert "Just uploaded" not in titles(client_for(UserFactory()).get("/api/v1/tracks"))


def test_a_track_made_private_through_the_services_shows_to_its_owner_at_once(
    client_for, creator, catalogue, django_capture_on_commit_callbacks
):
    client = client_for(creator)
    assert "Draft" not in titles(client.get("/api/v1/tracks"))  # shared page, nothing hidden
    track = TrackFactory(creator=creator, title="Draft")
    with django_capture_on_commit_callbacks(execute=True):
        services.update_track(
            track=track, changed_by=creator, data={"title": "Draft", "is_public": False}
        )
    assert "Draft" in titles(client.get("/api/v1/tracks"))
    assert "Draft" not in titles(client_for(UserFactory()).get("/api/v1/tracks"))


def test_the_cache_can_be_switched_off(api_client, catalogue, settings, django_assert_num_queries):
    settings.TRACK_LIST_CACHE_SECONDS = 0
    api_client.get("/api/v1/tracks")
    with django_assert_num_queries(2):
        api_client.get("/api/v1/tracks")
