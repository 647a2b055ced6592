from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from audit.models import AuditLog
from tests.factories import AdminFactory, CreatorFactory, UserFactory
from tests.tracks.factories import TrackFactory, TrackLikeFactory, TrackShareFactory, wav_bytes
from tracks.models import Track, TrackChange, TrackLike, TrackShare

pytestmark = pytest.mark.django_db


def url(track, suffix: str = "") -> str:
    return f"/api/v1/tracks/{track.id}{suffix}"


# --- list ----------------------------------------------------------------------------------


def test_list_shows_public_ready_tracks_and_the_callers_own(api_client, client_for, creator):
    public = TrackFactory(title="Public")
    TrackFactory(title="Private", is_public=False)
    TrackFactory(title="Processing", status=Track.Status.PROCESSING)
    mine_private = TrackFactory(title="Mine", creator=creator, is_public=False)
    mine_processing = TrackFactory(creator=creator, status=Track.Status.PROCESSING)

    anonymous = {t["id"] for t in api_client.get("/api/v1/tracks").json()["results"]}
    assert anonymous == {str(public.id)}
    own = {t["id"] for t in client_for(creator).get("/api/v1/tracks").json()["results"]}
    assert own == {str(public.id), str(mine_private.id), str(mine_processing.id)}


def test_list_filters_by_genre_creator_and_q(api_client):
    alice = CreatorFactory(username="alice")
    a = TrackFactory(creator=alice, genre="jazz", title="Blue Night", album="Moods")
    b = TrackFactory(genre="rock", title="Loud", artist="Night Riders")
    TrackFactory(genre="rock", title="Other")

    def ids(query: str) -> set[str]:
        response = api_client.get(f"/api/v1/tracks?{query}")
        assert response.status_code == 200
        return {t["id"] for t in response.json()["results"]}

    assert ids("genre=JAZZ") == {str(a.id)}
    assert ids("creator=alice") == {str(a.id)}
    assert ids(f"creator={alice.id}") == {str(a.id)}
    assert ids("q=night") == {str(a.id), str(b.id)}
    assert ids("q=moods") == {str(a.id)}


def test_list_orders_by_like_count_and_title(api_client):
    quiet = TrackFactory(title="B quiet")
    loved = TrackFactory(title="C loved")
    TrackFactory(title="A none")
    TrackLikeFactory.create_batch(3, track=loved)
    TrackLikeFactory(track=quiet)
    body = api_client.get("/api/v1/tracks?ordering=-like_count").json()
    assert [t["title"] for t in body["results"]] == ["C loved", "B quiet", "A none"]
    assert [t["like_count"] for t in body["results"]] == [3, 1, 0]
    body = api_client.get("/api/v1/tracks?ordering=title").json()
    assert [t["title"] for t in body["results"]] == ["A none", "B quiet", "C loved"]


def test_list_is_paginated_and_costs_a_fixed_number_of_queries(
    client_for, user, django_assert_max_num_queries
):
    tracks = TrackFactory.create_batch(25)
    for track in tracks[:10]:
        TrackLikeFactory(track=track, user=user)
    client = client_for(user)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/tracks?page_size=25")
    body = response.json()
    assert body["count"] == 25 and len(body["results"]) == 25
    assert sum(t["liked_by_me"] for t in body["results"]) == 10
    second = client.get("/api/v1/tracks?page=2").json()
    assert len(second["results"]) == 5 and second["previous"]


def test_bad_ordering_and_page_are_clear_4xx_or_ignored(api_client):
    TrackFactory()
    assert api_client.get("/api/v1/tracks?ordering=password").status_code == 200
    assert api_client.get("/api/v1/tracks?page=999").status_code == 404


# --- detail, update, delete ----------------------------------------------------------------


def test_private_track_is_404_to_others_and_visible_to_owner_and_admin(
    api_client, client_for, creator
):
    track = TrackFactory(creator=creator, is_public=False)
    assert api_client.get(url(track)).status_code == 404
    assert client_for(UserFactory()).get(url(track)).status_code == 404
    assert client_for(creator).get(url(track)).status_code == 200
    assert client_for(AdminFactory()).get(url(track)).json()["id"] == str(track.id)


def test_bad_uuid_in_path_is_json_404(api_client):
    response = api_client.get("/api/v1/tracks/not-a-uuid")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_owner_patches_track_and_the_change_is_recorded(client_for, creator):
    track = TrackFactory(creator=creator, title="Old", genre="rock")
    response = client_for(creator).patch(url(track), {"title": "New", "genre": "rock"})
    assert response.status_code == 200
    assert response.json()["title"] == "New"
    track.refresh_from_db()
    assert track.title == "New"
    change = TrackChange.objects.get(track=track)
    assert change.changed_by == creator
    assert change.changes == {"title": {"from": "Old", "to": "New"}}


def test_put_requires_title(client_for, creator):
    track = TrackFactory(creator=creator)
    response = client_for(creator).put(url(track), {"genre": "x"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_admin_may_edit_and_others_get_403_or_404(client_for, creator):
    public = TrackFactory(creator=creator, title="Public")
    private = TrackFactory(creator=creator, is_public=False)
    other = client_for(UserFactory())
    assert other.patch(url(public), {"title": "Hacked"}).status_code == 403
    assert other.delete(url(public)).status_code == 403
    assert other.patch(url(private), {"title": "Hacked"}).status_code == 404
    assert client_for(AdminFactory()).patch(url(public), {"is_public": False}).status_code == 200
    public.refresh_from_db()
    assert (public.title, public.is_public) == ("Public", False)


def test_anonymous_cannot_edit(api_client):
    track = TrackFactory()
    assert api_client.patch(url(track), {"title": "x"}).status_code in (401, 403)
    assert api_client.delete(url(track)).status_code in (401, 403)
    assert Track.objects.filter(pk=track.pk).exists()


def test_owner_deletes_track_file_is_removed_and_audited(
    client_for, creator, django_capture_on_commit_callbacks
):
    track = TrackFactory(creator=creator, with_file=True)
    name = track.file.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(creator).delete(url(track))
    assert response.status_code == 204
    assert not Track.objects.filter(pk=track.pk).exists()
    assert not default_storage.exists(name)
    entry = AuditLog.objects.get(action="track.delete")
    assert entry.actor == creator and entry.target_id == str(track.id)


def test_history_is_owner_or_admin_only_newest_first(client_for, creator):
    track = TrackFactory(creator=creator, title="v1")
    client = client_for(creator)
    client.patch(url(track), {"title": "v2"})
    client.patch(url(track), {"title": "v3"})
    body = client.get(url(track, "/history")).json()
    assert body["count"] == 2
    assert [e["changes"]["title"]["to"] for e in body["results"]] == ["v3", "v2"]
    assert body["results"][0]["changed_by"]["username"] == creator.username
    assert client_for(AdminFactory()).get(url(track, "/history")).status_code == 200
    assert client_for(UserFactory()).get(url(track, "/history")).status_code == 403


# --- likes ---------------------------------------------------------------------------------


def test_like_is_idempotent_and_unlike_removes_it(client_for, user):
    track = TrackFactory()
    client = client_for(user)
    first = client.post(url(track, "/like"))
    assert first.status_code == 201 and first.json() == {"liked": True, "like_count": 1}
    assert client.post(url(track, "/like")).status_code == 200
    assert TrackLike.objects.filter(track=track).count() == 1
    assert client.get(url(track)).json()["liked_by_me"] is True
    assert client.delete(url(track, "/like")).status_code == 204
    assert client.delete(url(track, "/like")).status_code == 204
    assert not TrackLike.objects.filter(track=track).exists()


def test_like_needs_auth_and_visibility(api_client, client_for, user):
    track = TrackFactory()
    assert api_client.post(url(track, "/like")).status_code == 401
    private = TrackFactory(is_public=False)
    assert client_for(user).post(url(private, "/like")).status_code == 404
    assert not TrackLike.objects.exists()


def test_likes_list_shows_users(client_for, user):
    track = TrackFactory()
    liker = UserFactory(display_name="Fan One")
    TrackLikeFactory(track=track, user=liker)
    body = client_for(user).get(url(track, "/likes")).json()
    assert body["count"] == 1
    assert body["results"][0] == {
        "id": str(liker.id),
        "username": liker.username,
        "display_name": "Fan One",
    }


# --- shares --------------------------------------------------------------------------------


def test_owner_shares_a_private_track_and_anyone_resolves_it(api_client, client_for, creator):
    track = TrackFactory(creator=creator, is_public=False)
    response = client_for(creator).post(url(track, "/share"), {"expires_in_hours": 2})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "token", "url", "expires_at"}
    assert len(body["token"]) >= 32 and body["token"] in body["url"]
    share = TrackShare.objects.get(pk=body["id"])
    assert timedelta(hours=1, minutes=59) < share.expires_at - timezone.now() <= timedelta(hours=2)
    resolved = api_client.get(f"/api/v1/tracks/shared/{body['token']}")
    assert resolved.status_code == 200 and resolved.json()["id"] == str(track.id)


def test_share_defaults_and_bounds(client_for, creator):
    track = TrackFactory(creator=creator)
    client = client_for(creator)
    share = TrackShare.objects.get(pk=client.post(url(track, "/share")).json()["id"])
    assert timedelta(hours=71) < share.expires_at - timezone.now() <= timedelta(hours=72)
    for bad in (0, 721, "soon"):
        response = client.post(url(track, "/share"), {"expires_in_hours": bad})
        assert response.status_code == 400
    assert TrackShare.objects.count() == 1


def test_only_the_owner_creates_shares(client_for, creator):
    track = TrackFactory(creator=creator)
    assert client_for(UserFactory()).post(url(track, "/share")).status_code == 403
    private = TrackFactory(creator=creator, is_public=False)
    assert client_for(UserFactory()).post(url(private, "/share")).status_code == 404
    assert not TrackShare.objects.exists()


def test_expired_or_revoked_share_is_404(api_client):
    expired = TrackShareFactory(expires_at=timezone.now() - timedelta(seconds=1))
    revoked = TrackShareFactory(revoked_at=timezone.now())
    assert api_client.get(f"/api/v1/tracks/shared/{expired.token}").status_code == 404
    assert api_client.get(f"/api/v1/tracks/shared/{revoked.token}").status_code == 404
    assert api_client.get("/api/v1/tracks/shared/nonsense").status_code == 404


def test_owner_revokes_share(api_client, client_for):
    share = TrackShareFactory()
    owner = share.track.creator
    assert client_for(UserFactory()).delete(f"/api/v1/tracks/share/{share.id}").status_code == 403
    assert client_for(owner).delete(f"/api/v1/tracks/share/{share.id}").status_code == 204
    share.refresh_from_db()
    assert share.revoked_at is not None
    assert api_client.get(f"/api/v1/tracks/shared/{share.token}").status_code == 404


# --- stats ---------------------------------------------------------------------------------


def test_stats_follow_visibility(api_client, client_for):
    track = TrackFactory(play_count=7, download_count=2)
    TrackLikeFactory.create_batch(2, track=track)
    TrackShareFactory(track=track)
    assert api_client.get(url(track, "/stats")).json() == {
        "plays": 7,
        "likes": 2,
        "shares": 1,
        "downloads": 2,
    }
    private = TrackFactory(is_public=False)
    assert api_client.get(url(private, "/stats")).status_code == 404
    assert client_for(private.creator).get(url(private, "/stats")).status_code == 200


# --- download ------------------------------------------------------------------------------


def _download(client, track):
    response = client.get(url(track, "/download"))
    if response.status_code == 200:
        # Consuming the stream closes the file (the test client wraps it); an extra
        # response.close() would fire request_finished and drop the test's DB connection.
        return response, b"".join(response.streaming_content)
    return response, None


def test_public_downloadable_track_downloads_for_anyone_and_counts(api_client):
    track = TrackFactory(is_downloadable=True, with_file=True, title="Night Drive")
    response, content = _download(api_client, track)
    assert response.status_code == 200
    assert content == wav_bytes()
    assert response["Content-Type"] == "audio/wav"
    assert 'attachment; filename="night-drive.wav"' in response["Content-Disposition"]
    track.refresh_from_db()
    assert track.download_count == 1


def test_owner_and_admin_download_a_private_undownloadable_track(client_for):
    track = TrackFactory(is_public=False, is_downloadable=False, with_file=True)
    assert _download(client_for(track.creator), track)[0].status_code == 200
    assert _download(client_for(AdminFactory()), track)[0].status_code == 200
    track.refresh_from_db()
    assert track.download_count == 2


def test_download_refusals(api_client, client_for):
    private = TrackFactory(is_public=False, is_downloadable=True, with_file=True)
    not_downloadable = TrackFactory(is_downloadable=False, with_file=True)
    assert _download(api_client, private)[0].status_code == 404
    assert _download(client_for(UserFactory()), private)[0].status_code == 404
    response = _download(client_for(UserFactory()), not_downloadable)[0]
    assert response.status_code == 403
    assert _download(api_client, not_downloadable)[0].status_code == 403
    not_downloadable.refresh_from_db()
    assert not_downloadable.download_count == 0


def test_active_licence_holder_downloads_a_private_track(client_for, monkeypatch):
    from tracks import selectors

    track = TrackFactory(is_public=False, is_downloadable=False, with_file=True)
    buyer = UserFactory()
    seen = []

    def fake_licence(*, user, track):
        seen.append((user.pk, track.pk))
        return user.pk == buyer.pk

    monkeypatch.setattr(selectors, "_download_grants", [fake_licence])
    assert _download(client_for(buyer), track)[0].status_code == 200
    assert _download(client_for(UserFactory()), track)[0].status_code == 404
    assert seen[0] == (buyer.pk, track.pk)
    track.refresh_from_db()
    assert track.download_count == 1


def test_download_of_a_track_without_file_is_404(api_client):
    track = TrackFactory(is_downloadable=True)
    response = api_client.get(url(track, "/download"))
    assert response.status_code == 404
    assert response.json()["code"] == "file_missing"


def test_a_user_without_a_licence_is_granted_nothing_by_other_apps(user):
    from tracks.selectors import granted_by_another_app

    track = TrackFactory(is_public=False)
    assert granted_by_another_app(user=user, track=track) is False


# --- stream-ready --------------------------------------------------------------------------


@pytest.fixture
def stream_key(settings):
    settings.STREAM_SERVER_INTERNAL_API_KEY = "s3cret-stream-key"
    return settings.STREAM_SERVER_INTERNAL_API_KEY


def test_stream_ready_with_the_key_makes_track_ready(api_client, stream_key):
    track = TrackFactory(status=Track.Status.PROCESSING, is_public=False)
    response = api_client.post(
        f"/api/v1/internal/tracks/{track.id}/stream-ready",
        {"stream_url": "https://stream.veza.local/hls/x.m3u8", "duration_seconds": 185},
        HTTP_X_INTERNAL_API_KEY=stream_key,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    track.refresh_from_db()
    assert (track.status, track.duration_seconds) == (Track.Status.READY, 185)
    assert track.stream_url.endswith("x.m3u8")
    change = TrackChange.objects.get(track=track)
    assert change.changed_by is None and change.changes["status"]["to"] == "ready"


@pytest.mark.parametrize("header", [None, "wrong", "s3cret-stream-ke"])
def test_stream_ready_refuses_a_missing_or_wrong_key(api_client, stream_key, header):
    track = TrackFactory(status=Track.Status.PROCESSING)
    extra = {"HTTP_X_INTERNAL_API_KEY": header} if header is not None else {}
    response = api_client.post(f"/api/v1/internal/tracks/{track.id}/stream-ready", {}, **extra)
    assert response.status_code == 401
    track.refresh_from_db()
    assert track.status == Track.Status.PROCESSING


def test_stream_ready_is_closed_when_no_key_is_configured(api_client, settings):
    settings.STREAM_SERVER_INTERNAL_API_KEY = ""
    track = TrackFactory(status=Track.Status.PROCESSING)
    response = api_client.post(
        f"/api/v1/internal/tracks/{track.id}/stream-ready", {}, HTTP_X_INTERNAL_API_KEY=""
    )
    assert response.status_code == 401
    track.refresh_from_db()
    assert track.status == Track.Status.PROCESSING


def test_stream_ready_unknown_track_and_bad_input(api_client, stream_key):
    headers = {"HTTP_X_INTERNAL_API_KEY": stream_key}
    missing = "/api/v1/internal/tracks/00000000-0000-4000-8000-000000000000/stream-ready"
    assert api_client.post(missing, {}, **headers).status_code == 404
    track = TrackFactory(status=Track.Status.PROCESSING)
    response = api_client.post(
        f"/api/v1/internal/tracks/{track.id}/stream-ready",
        {"duration_seconds": "long"},
        **headers,
    )
    assert response.status_code == 400
    failed = TrackFactory(status=Track.Status.FAILED)
    response = api_client.post(f"/api/v1/internal/tracks/{failed.id}/stream-ready", {}, **headers)
    assert response.status_code == 409
