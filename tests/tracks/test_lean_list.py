"""The lean track list (tracks.api.lean) answers byte for byte what the serializer path gave.

The reference is the list as it was built before: the viewset's DRF filter backends,
paginator, ``TrackOutput`` and ``JSONRenderer`` over ``selectors.track_list``. Every caller who
sees a different set of rows (a visitor, a listener with likes, the owner of private,
unfinished, failed and taken-down tracks, an admin), every ordering and filter of the contract,
and the odd inputs, with the page cache off and on.
"""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIRequestFactory, force_authenticate

from tests.factories import AdminFactory, CreatorFactory, UserFactory
from tests.tracks.factories import TrackFactory
from tracks import selectors
from tracks.api import serializers as s
from tracks.api.views import TrackViewSet
from tracks.models import Track, TrackLike

pytestmark = pytest.mark.django_db


class SerializerList(TrackViewSet):
    """The list as built before the lean path: DRF's machinery end to end."""

    def list(self, request):
        queryset = selectors.track_list(user=request.user)
        page = self.paginate_queryset(self.filter_queryset(queryset))
        return self.get_paginated_response(s.TrackOutput(page, many=True).data)


reference_view = SerializerList.as_view({"get": "list"})

START = datetime(2026, 11, 2, 9, 30, 0, tzinfo=UTC)  # whole seconds: no microseconds shown


@pytest.fixture
def world():
    """Distinct counts and dates everywhere, so every ordering is total (no ties whose order
    two different queries could break differently)."""
    owner = CreatorFactory(username="Owner_One")
    other = CreatorFactory(username="someone")
    listener = UserFactory()
    specs = [
        # (creator, title, status, public, stream_url, duration, genre)
        (other, "Plain ready", Track.Status.READY, True, "https://s.test/1.m3u8", 61, "rock"),
        (other, "Ready, no stream yet", Track.Status.READY, True, "", None, "Rock"),
        (owner, "Mine, public", Track.Status.READY, True, "https://s.test/2.m3u8", 200, "jazz"),
        (owner, "Mine, private", Track.Status.READY, False, "https://s.test/3.m3u8", 5, "rock"),
        (owner, "Mine, processing", Track.Status.PROCESSING, True, "https://s.test/4", None, ""),
        (owner, "Mine, failed", Track.Status.FAILED, True, "", None, "rock"),
        (owner, "Mine, taken down", Track.Status.TAKEN_DOWN, True, "https://s.test/5", 9, "pop"),
        (owner, "Mine, uploading", Track.Status.UPLOADING, False, "", None, "pop"),
        (other, 'Quotes "and" \\ slashes / é 😀', Track.Status.READY, True, "", 3, "folk"),
        (
            other,
            "Line\u2028sep\u2029para\x01ctl\ttab\nnewline",
            Track.Status.READY,
            True,
            "",
            4,
            "",
        ),
        (other, "Sketch in private", Track.Status.READY, False, "", 7, "rock"),
        (other, "A sketch of rock", Track.Status.READY, True, "https://s.test/6", 8, "ROCK"),
    ]
    tracks = []
    for n, (creator, title, status, public, stream_url, duration, genre) in enumerate(specs):
        tracks.append(
            TrackFactory(
                creator=creator,
                title=title,
                artist=f"Artist {n}" if n % 3 else "",
                album="Sketchbook" if n % 4 == 0 else "",
                description=f"Line one\nline {n} — ünïcode" if n % 2 else "",
                status=status,
                is_public=public,
                is_downloadable=n % 2 == 0,
                stream_url=stream_url,
                duration_seconds=duration,
                genre=genre,
                file_size=1000 * n,
                play_count=(n * 37) % 101,
                like_count=(n * 53) % 97,
            )
        )
    for n, track in enumerate(tracks):
        # Some with microseconds, some without: DRF shows them only when non-zero.
        created = START + timedelta(hours=n, microseconds=(n % 2) * 123456)
        updated = created + timedelta(minutes=n, microseconds=(n % 3) * 1000)
        Track.objects.filter(pk=track.pk).update(created_at=created, updated_at=updated)
    for track in tracks[:4] + tracks[8:10]:
        if track.is_public and track.status == Track.Status.READY:
            TrackLike.objects.create(user=listener, track=track)
    TrackLike.objects.create(user=owner, track=tracks[0])
    return {"owner": owner, "other": other, "listener": listener, "tracks": tracks}


def caller(world, name):
    if name == "anonymous":
        return None
    if name == "admin":
        return AdminFactory()
    return world[name]


QUERIES = [
    "",
    "page_size=5",
    "page_size=5&page=2",
    "page_size=5&page=3",
    "ordering=-like_count",
    "ordering=like_count",
    "ordering=-play_count",
    "ordering=title",
    "ordering=-title,created_at",
    "ordering=bogus",
    "ordering=bogus,-play_count",
    "ordering=",
    "genre=rock",
    "genre=ROCK&ordering=-like_count",
    "genre=",
    "creator=someone",
    "creator=SOMEONE",
    "creator=owner_one",
    "creator=nobody",
    "q=sketch",
    "q=%20sketch%20",
    "q=%20%20",
    "q=line&genre=",
    "q=%C3%A9",
    "q=sketch&creator=someone&ordering=-play_count",
    "unknown=1",
]


def reference(path: str, user) -> bytes:
    request = APIRequestFactory().get(path)
    if user is not None:
        force_authenticate(request, user=user)
    response = reference_view(request)
    response.render()
    return response.status_code, response.content


@pytest.mark.parametrize("who", ["anonymous", "listener", "owner", "other", "admin"])
@pytest.mark.parametrize("query", QUERIES)
def test_the_lean_list_is_the_serializers_byte_for_byte(
    world, who, query, client_for, api_client, settings
):
    settings.TRACK_LIST_CACHE_SECONDS = 0
    user = caller(world, who)
    client = client_for(user) if user is not None else api_client
    path = f"/api/v1/tracks?{query}"
    response = client.get(path)
    status, expected = reference(path, user)
    assert response.status_code == status  # 200, or 404 past a caller's last page
    assert response["Content-Type"] == "application/json"
    assert response.content == expected


def test_a_creator_filter_by_id_is_the_serializers(world, api_client, settings):
    settings.TRACK_LIST_CACHE_SECONDS = 0
    path = f"/api/v1/tracks?creator={world['owner'].pk}"
    response = api_client.get(path)
    assert response.content == reference(path, None)[1]
    assert {t["title"] for t in response.json()["results"]} == {"Mine, public"}


@pytest.mark.parametrize("who", ["anonymous", "listener", "owner"])
@pytest.mark.parametrize("query", ["", "ordering=-like_count", "q=sketch", "page_size=5&page=2"])
def test_cached_pages_are_the_serializers_byte_for_byte(
    world, who, query, client_for, api_client, settings
):
    settings.TRACK_LIST_CACHE_SECONDS = 60
    user = caller(world, who)
    client = client_for(user) if user is not None else api_client
    path = f"/api/v1/tracks?{query}"
    expected = reference(path, user)[1]
    built, cached = client.get(path), client.get(path)  # the first fills the cache
    assert built.content == expected
    assert cached.content == expected
    assert built.status_code == cached.status_code == 200


def test_a_listener_reading_a_page_a_visitor_cached_sees_their_own_likes(
    world, client_for, api_client, settings
):
    settings.TRACK_LIST_CACHE_SECONDS = 60
    api_client.get("/api/v1/tracks")  # a visitor's request fills the shared page
    listener = world["listener"]
    response = client_for(listener).get("/api/v1/tracks")
    assert response.content == reference("/api/v1/tracks", listener)[1]
    assert sum(t["liked_by_me"] for t in response.json()["results"]) == 5


@pytest.mark.parametrize("query", ["q=a%00b", "genre=%00", "creator=x%00"])
def test_a_nul_in_a_filter_is_refused_by_the_filterset_as_before(world, settings, query):
    # The API's middleware refuses a NUL in the query string before any view; behind it, the
    # list still hands such input to the FilterSet, whose 400 is the one it always gave.
    settings.TRACK_LIST_CACHE_SECONDS = 0
    path = f"/api/v1/tracks?{query}"
    response = TrackViewSet.as_view({"get": "list"})(APIRequestFactory().get(path))
    response.render()
    assert (response.status_code, response.content) == reference(path, None)
    name = query.split("=")[0]
    assert response.status_code == 400
    assert response.data[name] == ["Null characters are not allowed."]


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page=9", "page_size=0", "page_size=x"])
def test_bad_pages_answer_as_before(world, api_client, settings, query):
    settings.TRACK_LIST_CACHE_SECONDS = 0
    response = api_client.get(f"/api/v1/tracks?{query}")
    assert response.status_code in (400, 404)
    assert response.json()["code"] in ("invalid", "not_found")
