"""Reports (DSA art. 16) through the API: who may report what, the acknowledgement, limits."""

import pytest
from django.core import mail

from moderation.models import Report
from playlists.models import Playlist
from tests.factories import UserFactory
from tests.marketplace.factories import ProductFactory
from tests.tracks.factories import TrackFactory

pytestmark = pytest.mark.django_db


def test_anonymous_report_with_email_is_received_and_acknowledged(
    report_on, django_capture_on_commit_callbacks
):
    track = TrackFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = report_on("track", track.pk, reporter_name="Ana")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "received" and body["created_at"]
    report = Report.objects.get(pk=body["id"])
    assert report.target_owner == track.creator
    assert report.reporter is None and report.reporter_email == "reporter@example.com"
    (ack,) = mail.outbox
    assert ack.to == ["reporter@example.com"]
    assert body["id"] in ack.body


def test_signed_in_reporter_needs_no_email(client_for, report_on, user):
    track = TrackFactory()
    response = report_on("track", track.pk, client=client_for(user), reporter_email="")
    assert response.status_code == 201, response.json()
    report = Report.objects.get(pk=response.json()["id"])
    assert report.reporter == user and report.reporter_email == user.email


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"reporter_email": ""}, "reporter_email"),
        ({"description": "too short"}, "description"),
        ({"category": "copyright"}, "copyright"),
        ({"category": "copyright", "copyright": {"work_title": "Song"}}, "copyright"),
        ({"target_type": "album"}, "target_type"),
        ({"target_id": "not-a-uuid"}, "target_id"),
        ({"category": "boring"}, "category"),
    ],
)
def test_incomplete_reports_are_400_and_store_nothing(report_on, fields, field):
    track = TrackFactory()
    response = report_on("track", track.pk, **fields)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body
    assert Report.objects.count() == 0


def test_copyright_report_keeps_the_rights_holders_details(report_on):
    track = TrackFactory()
    notice = {
        "work_title": "Original Song",
        "rights_holder": "Label Ltd",
        "original_url": "https://label.example/original",
    }
    response = report_on("track", track.pk, category="copyright", copyright=notice)
    assert response.status_code == 201, response.json()
    assert Report.objects.get().copyright == notice


def test_target_the_reporter_cannot_see_is_404(report_on, client_for):
    private = TrackFactory(is_public=False)
    assert report_on("track", private.pk).status_code == 404
    # Its owner can see it, so may report it.
    assert report_on("track", private.pk, client=client_for(private.creator)).status_code == 201
    assert report_on("track", "00000000-0000-4000-8000-000000000000").status_code == 404
    hidden_playlist = Playlist.objects.create(owner=UserFactory(), title="x", is_public=False)
    assert report_on("playlist", hidden_playlist.pk).status_code == 404
    assert report_on("product", ProductFactory(is_active=False).pk).status_code == 404
    assert report_on("user", UserFactory(is_active=False).pk).status_code == 404
    assert Report.objects.count() == 1


@pytest.mark.parametrize("kind", ["playlist", "user", "product"])
def test_every_kind_of_target_can_be_reported(report_on, kind):
    target = {
        "playlist": lambda: Playlist.objects.create(owner=UserFactory(), title="Mix"),
        "user": UserFactory,
        "product": ProductFactory,
    }[kind]()
    response = report_on(kind, target.pk, category="harassment")
    assert response.status_code == 201, response.json()
    assert Report.objects.get().target_type == kind


def test_reports_are_limited_per_client_address(report_on, client_for, settings):
    settings.REPORT_RATE_LIMIT_PER_HOUR = 2
    track = TrackFactory()
    assert report_on("track", track.pk).status_code == 201
    assert report_on("track", track.pk, client=client_for(UserFactory())).status_code == 201
    # A third from the same address, signed in as someone else or not, is refused.
    refused = report_on("track", track.pk, client=client_for(UserFactory()))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "throttled"
    assert Report.objects.count() == 2
    # Another client address has its own allowance.
    assert report_on("track", track.pk, remote_addr="203.0.113.9").status_code == 201
    assert Report.objects.count() == 3


def test_reports_and_decisions_are_counted_in_metrics(
    report_on, decide, moderator, api_client, django_capture_on_commit_callbacks
):
    def counter(name, **labels):
        text = api_client.get("/metrics").content.decode()
        label = ",".join(f'{k}="{v}"' for k, v in labels.items())
        line = next((x for x in text.splitlines() if x.startswith(f"{name}{{{label}}}")), None)
        return float(line.split()[-1]) if line else 0.0

    before = counter("veza_moderation_reports_total", category="spam")
    decided_before = counter("veza_moderation_decisions_total", action="dismiss")
    with django_capture_on_commit_callbacks(execute=True):
        report = report_on("track", TrackFactory().pk, category="spam")
        decide(moderator, report.json()["id"], action="dismiss", explanation="Not spam at all.")
    assert counter("veza_moderation_reports_total", category="spam") == before + 1
    assert counter("veza_moderation_decisions_total", action="dismiss") == decided_before + 1
