"""Decisions through the API: a take-down with its statement of reasons hides the target
everywhere; a dismissal keeps it; the uploader reads and is emailed the statement."""

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditLog
from marketplace.models import License, Product
from moderation.models import Decision, Report
from playlists.models import Playlist, PlaylistTrack
from tests.factories import UserFactory
from tests.marketplace.factories import OrderFactory, ProductFactory
from tests.moderation.conftest import TAKE_DOWN
from tests.tracks.factories import TrackFactory
from tracks.models import Track

pytestmark = pytest.mark.django_db


def _report_id(report_on, kind, pk, **fields) -> str:
    response = report_on(kind, pk, **fields)
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_take_down_hides_the_track_from_lists_playlists_downloads_and_products(
    report_on, decide, moderator, client_for, api_client, django_capture_on_commit_callbacks
):
    track = TrackFactory(is_downloadable=True, with_file=True, title="Stolen Song")
    owner = track.creator
    product = ProductFactory(seller=owner, track=track, product_type=Product.Type.TRACK)
    buyer = UserFactory()
    order = OrderFactory(buyer=buyer, products=[product])
    License.objects.create(buyer=buyer, product=product, order=order)
    listener = UserFactory()
    playlist = Playlist.objects.create(owner=listener, title="Favourites")
    PlaylistTrack.objects.create(playlist=playlist, track=track, position=0, added_by=listener)
    # The anonymous list is cached: the take-down must not be served from the old page.
    assert api_client.get("/api/v1/tracks").json()["count"] == 1
    report_id = _report_id(report_on, "track", track.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = decide(moderator, report_id)
    assert response.status_code == 200, response.json()
    decision = response.json()
    assert decision["action"] == "take_down" and decision["ground"] == "law"
    assert decision["hidden"]["track_status"] == "ready"

    track.refresh_from_db()
    assert track.status == Track.Status.TAKEN_DOWN
    assert api_client.get("/api/v1/tracks").json()["count"] == 0
    assert api_client.get(f"/api/v1/tracks/{track.pk}").status_code == 404
    assert client_for(listener).get(f"/api/v1/tracks/{track.pk}").status_code == 404
    own = client_for(owner).get(f"/api/v1/tracks/{track.pk}")
    assert own.status_code == 200 and own.json()["status"] == "taken_down"
    assert client_for(moderator).get(f"/api/v1/tracks/{track.pk}").status_code == 404
    assert api_client.get(f"/api/v1/tracks/{track.pk}/download").status_code == 404
    assert client_for(buyer).get(f"/api/v1/tracks/{track.pk}/download").status_code == 404
    assert client_for(owner).get(f"/api/v1/tracks/{track.pk}/download").status_code == 403
    detail = client_for(listener).get(f"/api/v1/playlists/{playlist.pk}").json()
    assert detail["tracks"] == [] and detail["track_count"] == 0
    product.refresh_from_db()
    assert product.is_active is False and product.taken_down_at is not None
    assert api_client.get(f"/api/v1/marketplace/products/{product.pk}").status_code == 404
    assert client_for(buyer).get(f"/api/v1/marketplace/download/{product.pk}").status_code == 403
    assert api_client.get("/api/v1/marketplace/products").json()["count"] == 0

    report = Report.objects.get(pk=report_id)
    assert report.status == Report.Status.DECIDED and str(report.decision_id) == decision["id"]
    statement = next(m for m in mail.outbox if m.to == [owner.email])
    for part in (TAKE_DOWN["provision"], TAKE_DOWN["explanation"], "appeal", decision["id"]):
        assert part in statement.body
    (outcome,) = [m for m in mail.outbox if m.to == ["reporter@example.com"]]
    assert "taken down" in outcome.body and report_id in outcome.body
    assert AuditLog.objects.filter(action="moderation.take_down", actor=moderator).count() == 1

    listed = client_for(owner).get("/api/v1/moderation/decisions").json()
    assert listed["count"] == 1
    (row,) = listed["results"]
    assert row["id"] == decision["id"] and row["target_id"] == str(track.pk)
    assert row["explanation"] == TAKE_DOWN["explanation"] and row["automated"] is False
    assert row["appeal"] is None
    assert client_for(listener).get("/api/v1/moderation/decisions").json()["count"] == 0


def test_every_open_report_on_the_target_is_decided_with_it(report_on, decide, moderator):
    track = TrackFactory()
    first = _report_id(report_on, "track", track.pk)
    second = _report_id(report_on, "track", track.pk, category="hate")
    elsewhere = _report_id(report_on, "track", TrackFactory().pk)
    assert decide(moderator, first).status_code == 200
    assert Report.objects.get(pk=second).status == Report.Status.DECIDED
    assert Report.objects.get(pk=elsewhere).status == Report.Status.RECEIVED
    again = decide(moderator, second)
    assert again.status_code == 409
    assert Decision.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"action": "take_down", "provision": "s. 2", "explanation": "Facts."},
        {"action": "take_down", "ground": "law", "explanation": "Facts."},
        {"action": "take_down", "ground": "terms", "provision": "Clause 4", "explanation": " "},
        {"action": "dismiss"},
    ],
)
def test_an_incomplete_statement_is_refused_and_changes_nothing(report_on, decide, moderator, body):
    track = TrackFactory()
    report_id = _report_id(report_on, "track", track.pk)
    response = decide(moderator, report_id, **body)
    assert response.status_code == 400
    assert response.json()["code"] == "statement_incomplete"
    track.refresh_from_db()
    assert track.status == Track.Status.READY
    assert Report.objects.get(pk=report_id).status == Report.Status.RECEIVED
    assert Decision.objects.count() == 0


def test_only_moderators_and_admins_decide(report_on, decide, client_for, admin_user):
    track = TrackFactory()
    report_id = _report_id(report_on, "track", track.pk)
    for someone in (UserFactory(), UserFactory(is_staff=True), track.creator):
        assert decide(someone, report_id).status_code == 403
        listed = client_for(someone).get("/api/v1/admin/moderation/reports")
        assert listed.status_code == 403
    assert decide(admin_user, report_id).status_code == 200


def test_dismissal_keeps_the_target_and_tells_the_reporter(
    report_on, decide, moderator, api_client, django_capture_on_commit_callbacks
):
    track = TrackFactory()
    report_id = _report_id(report_on, "track", track.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(
            moderator, report_id, action="dismiss", explanation="A parody, allowed by law."
        )
    assert response.status_code == 200, response.json()
    assert response.json()["action"] == "dismiss"
    assert api_client.get(f"/api/v1/tracks/{track.pk}").status_code == 200
    (outcome,) = [m for m in mail.outbox if "parody" in m.body]
    assert outcome.to == ["reporter@example.com"]
    assert not [m for m in mail.outbox if m.to == [track.creator.email]]


def test_queue_lists_reports_oldest_first_and_filters_by_status(
    report_on, decide, moderator, client_for
):
    tracks = [TrackFactory() for _ in range(3)]
    ids = [_report_id(report_on, "track", t.pk) for t in tracks]
    Report.objects.filter(pk=ids[2]).update(created_at=timezone.now() - timezone.timedelta(days=2))
    decide(moderator, ids[1])
    client = client_for(moderator)
    everything = client.get("/api/v1/admin/moderation/reports").json()
    assert [r["id"] for r in everything["results"]] == [ids[2], ids[0], ids[1]]
    received = client.get("/api/v1/admin/moderation/reports?status=received").json()
    assert [r["id"] for r in received["results"]] == [ids[2], ids[0]]
    decided = client.get("/api/v1/admin/moderation/reports?status=decided").json()
    assert [r["id"] for r in decided["results"]] == [ids[1]]
    assert decided["results"][0]["decision_action"] == "take_down"
    assert client.get("/api/v1/admin/moderation/reports?status=nope").status_code == 400


def test_take_down_of_a_playlist_product_and_profile(report_on, decide, moderator, client_for):
    owner = UserFactory()
    collaborator = UserFactory()
    playlist = Playlist.objects.create(owner=owner, title="Hateful mix")
    playlist.collaborators.create(user=collaborator, permission="view")
    product = ProductFactory()
    profile = UserFactory()
    for kind, pk in (("playlist", playlist.pk), ("product", product.pk), ("user", profile.pk)):
        assert (
            decide(moderator, _report_id(report_on, kind, pk, category="hate")).status_code == 200
        )
    stranger = client_for(UserFactory())
    assert stranger.get(f"/api/v1/playlists/{playlist.pk}").status_code == 404
    assert client_for(collaborator).get(f"/api/v1/playlists/{playlist.pk}").status_code == 404
    assert client_for(owner).get(f"/api/v1/playlists/{playlist.pk}").status_code == 200
    assert stranger.get("/api/v1/playlists").json()["count"] == 0
    assert stranger.get(f"/api/v1/marketplace/products/{product.pk}").status_code == 404
    seller_view = client_for(product.seller).get(f"/api/v1/marketplace/products/{product.pk}")
    assert seller_view.status_code == 200 and seller_view.json()["is_active"] is False
    assert stranger.get(f"/api/v1/users/{profile.pk}").status_code == 404
    assert stranger.get(f"/api/v1/users/by-username/{profile.username}").status_code == 404
    assert client_for(profile).get(f"/api/v1/users/{profile.pk}").status_code == 200
    # A taken-down product cannot be bought.
    order = stranger.post(
        "/api/v1/marketplace/orders", {"items": [{"product_id": str(product.pk)}]}, format="json"
    )
    assert order.status_code == 400


def test_one_decision_and_one_report_read_back(report_on, decide, moderator, client_for):
    track = TrackFactory()
    report_id = _report_id(report_on, "track", track.pk)
    decision_id = decide(moderator, report_id).json()["id"]
    mine = client_for(track.creator).get(f"/api/v1/moderation/decisions/{decision_id}")
    assert mine.status_code == 200 and mine.json()["provision"] == TAKE_DOWN["provision"]
    other = client_for(UserFactory()).get(f"/api/v1/moderation/decisions/{decision_id}")
    assert other.status_code == 404
    report = client_for(moderator).get(f"/api/v1/admin/moderation/reports/{report_id}")
    assert report.status_code == 200 and report.json()["decision_id"] == decision_id
    assert (
        client_for(track.creator).get(f"/api/v1/admin/moderation/reports/{report_id}").status_code
        == 403
    )
