"""The moderators' back-office: the queue grouped by target, oldest first, deciding from it,
the appeals, the transparency page; other staff are refused."""

from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.models import Appeal, Decision, Report
from tests.backoffice.test_admin_console import staff_client
from tests.moderation.conftest import TAKE_DOWN
from tests.tracks.factories import TrackFactory
from tracks.models import Track

pytestmark = pytest.mark.django_db


def test_queue_groups_open_reports_by_target_oldest_first(report_on):
    newer, older = TrackFactory(title="Newer Track"), TrackFactory(title="Older Track")
    report_on("track", newer.pk)
    first = report_on("track", older.pk).json()["id"]
    report_on("track", older.pk, category="spam", description="Spam links everywhere here.")
    Report.objects.filter(pk=first).update(created_at=timezone.now() - timedelta(days=1))
    moderation, _ = staff_client("Moderation")

    page = moderation.get("/admin/moderation/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "2 targets with open reports" in html
    assert html.index("Older Track") < html.index("Newer Track")
    assert "2 open reports" in html and "Spam links everywhere here." in html


def test_a_moderator_decides_from_the_queue_and_a_second_one_decides_the_appeal(
    report_on, client_for
):
    track = TrackFactory(title="Copied Song")
    report_id = report_on("track", track.pk).json()["id"]
    first, first_user = staff_client("Moderation")
    incomplete = first.post(
        "/admin/moderation/queue/", {"report_id": report_id, "action": "take_down"}, follow=True
    )
    assert "statement of reasons" in incomplete.content.decode()
    assert Decision.objects.count() == 0
    done = first.post(
        "/admin/moderation/queue/", {"report_id": report_id, **TAKE_DOWN}, follow=True
    )
    assert "Take down" in done.content.decode()
    track.refresh_from_db()
    assert track.status == Track.Status.TAKEN_DOWN
    decision = Decision.objects.get()
    assert decision.moderator == first_user
    # Deciding the same report again is refused, with a message, not an error page.
    again = first.post(
        "/admin/moderation/queue/", {"report_id": report_id, **TAKE_DOWN}, follow=True
    )
    assert "already been decided" in again.content.decode()

    client_for(track.creator).post(
        f"/api/v1/moderation/decisions/{decision.pk}/appeal", {"text": "Mine."}, format="json"
    )
    appeal = Appeal.objects.get()
    queue = first.get("/admin/moderation/queue/").content.decode()
    assert "another moderator decides the appeal" in queue
    refused = first.post(
        "/admin/moderation/queue/",
        {"appeal_id": appeal.pk, "outcome": "reversed", "explanation": "x"},
        follow=True,
    )
    assert "other than the one" in refused.content.decode()
    second, _ = staff_client("Moderation")
    second.post(
        "/admin/moderation/queue/",
        {"appeal_id": appeal.pk, "outcome": "reversed", "explanation": "Licensed."},
    )
    track.refresh_from_db()
    assert track.status == Track.Status.READY
    garbage = second.post("/admin/moderation/queue/", {"report_id": "nope"}, follow=True)
    assert garbage.status_code == 200


def test_transparency_page_and_record_lists(report_on, decide, moderator):
    track = TrackFactory()
    decide(moderator, report_on("track", track.pk).json()["id"])
    moderation, _ = staff_client("Moderation")
    page = moderation.get("/admin/moderation/transparency/")
    assert page.status_code == 200
    html = page.content.decode()
    assert timezone.now().strftime("%Y-%m") in html and "reports received" in html
    for path in ("report", "decision", "appeal", "blockedaudio", "suspension"):
        assert moderation.get(f"/admin/moderation/{path}/").status_code == 200


def test_other_staff_cannot_moderate(report_on):
    report_id = report_on("track", TrackFactory().pk).json()["id"]
    support, _ = staff_client("Support")
    assert support.get("/admin/moderation/queue/").status_code == 403
    assert support.post("/admin/moderation/queue/", {"report_id": report_id}).status_code == 403
    assert support.get("/admin/moderation/transparency/").status_code == 403
    assert Report.objects.get(pk=report_id).status == Report.Status.RECEIVED
