"""The contract's track routes, as the router builds them: same paths, methods and names."""

import uuid

import pytest
from django.urls import resolve, reverse

from tests.tracks.factories import TrackFactory

pytestmark = pytest.mark.django_db

ID = uuid.uuid4()

ROUTES = [
    ("track-list", {}, "/api/v1/tracks", {"get", "post"}),
    ("track-detail", {"pk": ID}, f"/api/v1/tracks/{ID}", {"get", "put", "patch", "delete"}),
    ("track-like", {"pk": ID}, f"/api/v1/tracks/{ID}/like", {"post", "delete"}),
    ("track-likes", {"pk": ID}, f"/api/v1/tracks/{ID}/likes", {"get"}),
    ("track-share-create", {"pk": ID}, f"/api/v1/tracks/{ID}/share", {"post"}),
    ("track-stats", {"pk": ID}, f"/api/v1/tracks/{ID}/stats", {"get"}),
    ("track-history", {"pk": ID}, f"/api/v1/tracks/{ID}/history", {"get"}),
    ("track-download", {"pk": ID}, f"/api/v1/tracks/{ID}/download", {"get"}),
    ("track-shared-detail", {"token": "abc"}, "/api/v1/tracks/shared/abc", {"get"}),
    ("track-share-detail", {"share_id": ID}, f"/api/v1/tracks/share/{ID}", {"delete"}),
]


@pytest.mark.parametrize(("name", "kwargs", "path", "methods"), ROUTES)
def test_each_contract_route_resolves_to_its_methods(name, kwargs, path, methods):
    assert reverse(name, kwargs=kwargs) == path
    match = resolve(path)
    assert match.url_name == name
    assert set(match.func.actions) - {"head"} == methods


@pytest.mark.parametrize(
    "path", ["/api/v1/tracks/", "/api/v1/tracks/{id}/", "/api/v1/tracks/{id}/like/"]
)
def test_routes_have_no_trailing_slash(api_client, path):
    track = TrackFactory()
    response = api_client.get(path.format(id=track.id))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_a_method_outside_the_contract_is_405(client_for, creator):
    track = TrackFactory(creator=creator)
    client = client_for(creator)
    assert client.post(f"/api/v1/tracks/{track.id}").status_code == 405
    assert client.get(f"/api/v1/tracks/{track.id}/share").status_code == 405
    assert client.put(f"/api/v1/tracks/{track.id}/like").status_code == 405


def test_metadata_updates_still_take_json(client_for, creator):
    track = TrackFactory(creator=creator)
    response = client_for(creator).patch(
        f"/api/v1/tracks/{track.id}", {"genre": "dub"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["genre"] == "dub"
