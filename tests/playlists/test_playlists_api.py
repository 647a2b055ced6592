import pytest

from playlists.models import Playlist, PlaylistCollaborator, PlaylistTrack
from tests.factories import AdminFactory, UserFactory
from tests.playlists.factories import (
    PlaylistCollaboratorFactory,
    PlaylistFactory,
    PlaylistTrackFactory,
)
from tests.tracks.factories import TrackFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/playlists"


def url(playlist, suffix: str = "") -> str:
    return f"{LIST}/{playlist.id}{suffix}"


def positions(playlist) -> list[tuple[int, str]]:
    return [
        (e.position, str(e.track_id))
        for e in PlaylistTrack.objects.filter(playlist=playlist).order_by("position")
    ]


@pytest.fixture
def private_playlist(db):
    playlist = PlaylistFactory(is_public=False)
    viewer = PlaylistCollaboratorFactory(playlist=playlist, permission="view").user
    editor = PlaylistCollaboratorFactory(playlist=playlist, permission="edit").user
    return playlist, viewer, editor


# --- create, read --------------------------------------------------------------------------


def test_user_creates_a_playlist(client_for, user):
    response = client_for(user).post(LIST, {"title": "Road trip", "is_public": False})
    assert response.status_code == 201
    body = response.json()
    assert body["owner"] == {"id": str(user.id), "username": user.username}
    assert (body["track_count"], body["tracks"], body["collaborators"]) == (0, [], [])
    playlist = Playlist.objects.get(pk=body["id"])
    assert (playlist.title, playlist.is_public, playlist.owner) == ("Road trip", False, user)


def test_anonymous_cannot_create_and_title_is_required(api_client, client_for, user):
    assert api_client.post(LIST, {"title": "x"}).status_code == 401
    response = client_for(user).post(LIST, {"description": "no title"})
    assert response.status_code == 400 and "title" in response.json()
    assert not Playlist.objects.exists()


def test_private_playlist_visibility_matrix(api_client, client_for, private_playlist):
    playlist, viewer, editor = private_playlist
    assert api_client.get(url(playlist)).status_code == 404
    assert client_for(UserFactory()).get(url(playlist)).status_code == 404
    for who in (playlist.owner, viewer, editor, AdminFactory()):
        response = client_for(who).get(url(playlist))
        assert response.status_code == 200
        assert response.json()["id"] == str(playlist.id)


def test_list_shows_public_own_and_collaborated(api_client, client_for, private_playlist):
    playlist, viewer, _ = private_playlist
    public = PlaylistFactory()
    mine = PlaylistFactory(owner=viewer, is_public=False)
    PlaylistFactory(is_public=False)

    def ids(client, query=""):
        return {p["id"] for p in client.get(f"{LIST}{query}").json()["results"]}

    assert ids(api_client) == {str(public.id)}
    assert ids(client_for(viewer)) == {str(public.id), str(mine.id), str(playlist.id)}
    assert ids(client_for(viewer), f"?owner={viewer.username}") == {str(mine.id)}
    assert ids(client_for(viewer), f"?owner={viewer.id}") == {str(mine.id)}
    assert ids(api_client, f"?q={public.title}") == {str(public.id)}


def test_list_and_detail_cost_a_fixed_number_of_queries(
    client_for, user, django_assert_max_num_queries
):
    for _ in range(8):
        playlist = PlaylistFactory(owner=user)
        PlaylistCollaboratorFactory.create_batch(2, playlist=playlist)
        for _ in range(3):
            PlaylistTrackFactory(playlist=playlist)
    client = client_for(user)
    with django_assert_max_num_queries(5):
        body = client.get(LIST).json()
    assert body["count"] == 8
    assert all(p["track_count"] == 3 and len(p["collaborators"]) == 2 for p in body["results"])
    assert all("tracks" not in p for p in body["results"])
    with django_assert_max_num_queries(7):
        detail = client.get(url(playlist)).json()
    assert [e["position"] for e in detail["tracks"]] == [0, 1, 2]
    assert {"position", "track", "added_by", "added_at"} == set(detail["tracks"][0])
    assert detail["tracks"][0]["track"]["like_count"] == 0


# --- metadata, delete ----------------------------------------------------------------------


def test_only_owner_or_admin_changes_metadata_or_deletes(client_for, private_playlist):
    playlist, viewer, editor = private_playlist
    for who in (viewer, editor):
        assert client_for(who).patch(url(playlist), {"title": "Mine now"}).status_code == 403
        assert client_for(who).delete(url(playlist)).status_code == 403
    assert client_for(UserFactory()).patch(url(playlist), {"title": "x"}).status_code == 404
    playlist.refresh_from_db()
    assert playlist.title != "Mine now"
    response = client_for(playlist.owner).patch(url(playlist), {"title": "Renamed"})
    assert response.status_code == 200 and response.json()["title"] == "Renamed"
    assert client_for(AdminFactory()).patch(url(playlist), {"is_public": True}).status_code == 200
    playlist.refresh_from_db()
    assert (playlist.title, playlist.is_public) == ("Renamed", True)
    assert client_for(playlist.owner).delete(url(playlist)).status_code == 204
    assert not Playlist.objects.filter(pk=playlist.pk).exists()


def test_public_playlist_edit_by_stranger_is_403(client_for):
    playlist = PlaylistFactory()
    stranger = client_for(UserFactory())
    assert stranger.put(url(playlist), {"title": "x"}).status_code == 403
    assert (
        stranger.post(url(playlist, "/tracks"), {"track_id": str(TrackFactory().id)}).status_code
        == 403
    )
    assert not PlaylistTrack.objects.exists()


# --- track list ----------------------------------------------------------------------------


def test_owner_and_edit_collaborator_edit_tracks_view_collaborator_cannot(
    client_for, private_playlist
):
    playlist, viewer, editor = private_playlist
    a, b, c = TrackFactory.create_batch(3)
    owner = client_for(playlist.owner)
    assert owner.post(url(playlist, "/tracks"), {"track_id": str(a.id)}).status_code == 201
    response = client_for(editor).post(
        url(playlist, "/tracks"), {"track_id": str(b.id), "position": 0}
    )
    assert response.status_code == 201
    assert [e["track"]["id"] for e in response.json()["tracks"]] == [str(b.id), str(a.id)]
    assert response.json()["tracks"][0]["added_by"]["id"] == str(editor.id)
    assert (
        client_for(viewer).post(url(playlist, "/tracks"), {"track_id": str(c.id)}).status_code
        == 403
    )
    assert client_for(viewer).delete(url(playlist, f"/tracks/{a.id}")).status_code == 403
    assert positions(playlist) == [(0, str(b.id)), (1, str(a.id))]
    assert client_for(editor).delete(url(playlist, f"/tracks/{b.id}")).status_code == 204
    assert positions(playlist) == [(0, str(a.id))]


def test_edit_collaborator_cannot_manage_collaborators(client_for, private_playlist):
    playlist, viewer, editor = private_playlist
    newcomer = UserFactory()
    response = client_for(editor).post(
        url(playlist, "/collaborators"), {"user_id": str(newcomer.id), "permission": "edit"}
    )
    assert response.status_code == 403
    assert (
        client_for(editor).delete(url(playlist, f"/collaborators/{viewer.id}")).status_code == 403
    )
    assert PlaylistCollaborator.objects.filter(playlist=playlist).count() == 2


def test_adding_a_track_twice_is_409(client_for, user):
    playlist = PlaylistFactory(owner=user)
    track = TrackFactory()
    client = client_for(user)
    assert client.post(url(playlist, "/tracks"), {"track_id": str(track.id)}).status_code == 201
    response = client.post(url(playlist, "/tracks"), {"track_id": str(track.id)})
    assert response.status_code == 409
    assert response.json()["code"] == "track_already_in_playlist"
    assert PlaylistTrack.objects.filter(playlist=playlist).count() == 1


def test_private_track_of_someone_else_cannot_be_added(client_for, user):
    playlist = PlaylistFactory(owner=user)
    private = TrackFactory(is_public=False)
    response = client_for(user).post(url(playlist, "/tracks"), {"track_id": str(private.id)})
    assert response.status_code == 404
    own_private = TrackFactory(creator=user, is_public=False)
    response = client_for(user).post(url(playlist, "/tracks"), {"track_id": str(own_private.id)})
    assert response.status_code == 201
    assert positions(playlist) == [(0, str(own_private.id))]


def test_private_tracks_in_a_playlist_are_hidden_from_other_viewers(api_client, user):
    playlist = PlaylistFactory(owner=user)
    public = TrackFactory()
    own_private = TrackFactory(creator=user, is_public=False)
    PlaylistTrackFactory(playlist=playlist, track=public)
    PlaylistTrackFactory(playlist=playlist, track=own_private)
    body = api_client.get(url(playlist)).json()
    assert [e["track"]["id"] for e in body["tracks"]] == [str(public.id)]
    assert body["track_count"] == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"track_id": "not-a-uuid"},
        {},
        {"track_id": "{track}", "position": -1},
        {"track_id": "{track}", "position": "first"},
    ],
)
def test_bad_track_input_is_400(client_for, user, payload):
    playlist = PlaylistFactory(owner=user)
    track = TrackFactory()
    data = {k: (str(track.id) if v == "{track}" else v) for k, v in payload.items()}
    response = client_for(user).post(url(playlist, "/tracks"), data)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not PlaylistTrack.objects.exists()


def test_position_beyond_the_end_appends(client_for, user):
    playlist = PlaylistFactory(owner=user)
    a, b = TrackFactory.create_batch(2)
    client = client_for(user)
    client.post(url(playlist, "/tracks"), {"track_id": str(a.id)})
    client.post(url(playlist, "/tracks"), {"track_id": str(b.id), "position": 99})
    assert positions(playlist) == [(0, str(a.id)), (1, str(b.id))]


def test_removing_a_missing_track_is_404(client_for, user):
    playlist = PlaylistFactory(owner=user)
    missing = "00000000-0000-4000-8000-000000000000"
    assert client_for(user).delete(url(playlist, f"/tracks/{missing}")).status_code == 404
    assert client_for(user).delete(url(playlist, "/tracks/nope")).status_code == 404


# --- collaborators -------------------------------------------------------------------------


def test_owner_adds_updates_and_removes_a_collaborator(client_for, user):
    playlist = PlaylistFactory(owner=user, is_public=False)
    friend = UserFactory()
    client = client_for(user)
    response = client.post(
        url(playlist, "/collaborators"), {"user_id": str(friend.id), "permission": "view"}
    )
    assert response.status_code == 201
    assert response.json() == {
        "user": {"id": str(friend.id), "username": friend.username},
        "permission": "view",
    }
    assert client_for(friend).get(url(playlist)).status_code == 200
    response = client.post(
        url(playlist, "/collaborators"), {"user_id": str(friend.id), "permission": "edit"}
    )
    assert response.status_code == 200
    assert PlaylistCollaborator.objects.get(playlist=playlist, user=friend).permission == "edit"
    assert client.delete(url(playlist, f"/collaborators/{friend.id}")).status_code == 204
    assert not PlaylistCollaborator.objects.filter(playlist=playlist).exists()
    assert client_for(friend).get(url(playlist)).status_code == 404
    assert client.delete(url(playlist, f"/collaborators/{friend.id}")).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [
        {"user_id": "00000000-0000-4000-8000-000000000000", "permission": "view"},
        {"user_id": "nope", "permission": "view"},
        {"user_id": "{friend}", "permission": "admin"},
        {"user_id": "{owner}", "permission": "edit"},
    ],
)
def test_bad_collaborator_input_is_400(client_for, user, payload):
    playlist = PlaylistFactory(owner=user)
    friend = UserFactory()
    ids = {"{friend}": str(friend.id), "{owner}": str(user.id)}
    data = {k: ids.get(v, v) for k, v in payload.items()}
    response = client_for(user).post(url(playlist, "/collaborators"), data)
    assert response.status_code == 400
    assert not PlaylistCollaborator.objects.exists()
