"""Anonymous track-list pages come from the cache until the catalogue changes."""

import pytest

from tests.factories import UserFactory
from tests.tracks.factories import TrackFactory
from tracks import services
from tracks.models import Track

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


def test_the_logged_in_list_is_never_served_from_the_shared_cache(
    api_client, client_for, creator, catalogue
):
    api_client.get("/api/v1/tracks")  # fills the anonymous entry
    TrackFactory(creator=creator, is_public=False, title="Mine")
    own = titles(client_for(creator).get("/api/v1/tracks"))
    assert "Mine" in own
    assert "Mine" not in titles(api_client.get("/api/v1/tracks"))


def test_the_cache_can_be_switched_off(api_client, catalogue, settings, django_assert_num_queries):
    settings.TRACK_LIST_CACHE_SECONDS = 0
    api_client.get("/api/v1/tracks")
    with django_assert_num_queries(2):
        api_client.get("/api/v1/tracks")
