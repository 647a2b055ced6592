"""The contract's playlist routes, as the router builds them: same paths, methods and names."""

import uuid

import pytest
from django.urls import resolve, reverse

from tests.playlists.factories import PlaylistFactory

pytestmark = pytest.mark.django_db

ID = uuid.uuid4()
SUB = uuid.uuid4()

ROUTES = [
    ("playlist-list", {}, "/api/v1/playlists", {"get", "post"}),
    (
        "playlist-detail",
        {"pk": ID},
        f"/api/v1/playlists/{ID}",
        {"get", "put", "patch", "delete"},
    ),
    ("playlist-tracks", {"pk": ID}, f"/api/v1/playlists/{ID}/tracks", {"post"}),
    (
        "playlist-track",
        {"pk": ID, "track_id": SUB},
        f"/api/v1/playlists/{ID}/tracks/{SUB}",
        {"delete"},
    ),
    ("playlist-collaborators", {"pk": ID}, f"/api/v1/playlists/{ID}/collaborators", {"post"}),
    (
        "playlist-collaborator",
        {"pk": ID, "user_id": SUB},
        f"/api/v1/playlists/{ID}/collaborators/{SUB}",
        {"delete"},
    ),
]


@pytest.mark.parametrize(("name", "kwargs", "path", "methods"), ROUTES)
def test_each_contract_route_resolves_to_its_methods(name, kwargs, path, methods):
    assert reverse(name, kwargs=kwargs) == path
    match = resolve(path)
    assert match.url_name == name
    assert set(match.func.actions) - {"head"} == methods


def test_a_sub_id_that_is_not_a_uuid_is_json_404(client_for):
    playlist = PlaylistFactory()
    response = client_for(playlist.owner).delete(f"/api/v1/playlists/{playlist.id}/tracks/nope")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_routes_have_no_trailing_slash(api_client):
    playlist = PlaylistFactory()
    assert api_client.get("/api/v1/playlists/").status_code == 404
    assert api_client.get(f"/api/v1/playlists/{playlist.id}/").status_code == 404
