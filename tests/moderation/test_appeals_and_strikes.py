"""Appeals decided by a second moderator, reversal restoring exactly what was hidden, and
repeat infringers suspended from uploading and selling."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditLog
from marketplace.models import Product
from moderation.models import Appeal, Decision, Suspension
from tests.factories import CreatorFactory, UserFactory
from tests.marketplace.factories import ProductFactory
from tests.tracks.factories import TrackFactory, wav_bytes
from tracks.models import Track

pytestmark = pytest.mark.django_db

COPYRIGHT = {
    "category": "copyright",
    "copyright": {"work_title": "Original", "rights_holder": "Label Ltd"},
}


def take_down(report_on, decide, moderator, track, **report_fields) -> str:
    report = report_on("track", track.pk, **report_fields)
    assert report.status_code == 201, report.json()
    decided = decide(moderator, report.json()["id"])
    assert decided.status_code == 200, decided.json()
    return decided.json()["id"]


def appeal(client_for, user, decision_id, text="This is my own recording."):
    return client_for(user).post(
        f"/api/v1/moderation/decisions/{decision_id}/appeal", {"text": text}, format="json"
    )


def decide_appeal(client_for, moderator, appeal_id, outcome="reversed"):
    return client_for(moderator).post(
        f"/api/v1/admin/moderation/appeals/{appeal_id}/decide",
        {"outcome": outcome, "explanation": "The uploader showed a licence."},
        format="json",
    )


def test_appeal_reversed_by_a_second_moderator_restores_exactly_what_was_hidden(
    report_on, decide, moderators, client_for, api_client, django_capture_on_commit_callbacks
):
    first, second = moderators
    track = TrackFactory(is_public=True)
    owner = track.creator
    on_sale = ProductFactory(seller=owner, track=track)
    withdrawn = ProductFactory(seller=owner, track=track, is_active=False)
    decision_id = take_down(report_on, decide, first, track)
    assert api_client.get(f"/api/v1/tracks/{track.pk}").status_code == 404

    response = appeal(client_for, owner, decision_id)
    assert response.status_code == 201, response.json()
    appeal_id = response.json()["id"]
    assert response.json()["status"] == "received"
    assert appeal(client_for, owner, decision_id).status_code == 409  # one per decision
    listed = client_for(owner).get("/api/v1/moderation/decisions").json()["results"][0]
    assert listed["appeal"] == {"id": appeal_id, "status": "received", "outcome": None}

    same = decide_appeal(client_for, first, appeal_id)
    assert same.status_code == 403 and same.json()["code"] == "same_moderator"
    assert Appeal.objects.get(pk=appeal_id).status == Appeal.Status.RECEIVED

    with django_capture_on_commit_callbacks(execute=True):
        reversed_ = decide_appeal(client_for, second, appeal_id)
    assert reversed_.status_code == 200, reversed_.json()
    assert reversed_.json()["outcome"] == "reversed"
    assert decide_appeal(client_for, second, appeal_id).status_code == 409

    track.refresh_from_db()
    assert track.status == Track.Status.READY
    assert api_client.get(f"/api/v1/tracks/{track.pk}").status_code == 200
    on_sale.refresh_from_db()
    withdrawn.refresh_from_db()
    # The product withdrawn by its seller before the take-down stays withdrawn.
    assert (on_sale.is_active, on_sale.taken_down_at) == (True, None)
    assert (withdrawn.is_active, withdrawn.taken_down_at) == (False, None)
    assert api_client.get(f"/api/v1/marketplace/products/{on_sale.pk}").status_code == 200
    listed = client_for(owner).get("/api/v1/moderation/decisions").json()["results"][0]
    assert listed["appeal"]["outcome"] == "reversed" and listed["reversed"] is True
    (email,) = [m for m in mail.outbox if m.to == [owner.email]]
    assert "reversed" in email.body
    assert AuditLog.objects.filter(action="moderation.appeal").count() == 1
    assert AuditLog.objects.filter(action="moderation.appeal_reversed", actor=second).count() == 1


def test_upheld_appeal_keeps_the_take_down(report_on, decide, moderators, client_for, api_client):
    first, second = moderators
    track = TrackFactory()
    decision_id = take_down(report_on, decide, first, track)
    appeal_id = appeal(client_for, track.creator, decision_id).json()["id"]
    upheld = decide_appeal(client_for, second, appeal_id, outcome="upheld")
    assert upheld.status_code == 200 and upheld.json()["outcome"] == "upheld"
    assert api_client.get(f"/api/v1/tracks/{track.pk}").status_code == 404
    assert Decision.objects.get(pk=decision_id).reversed_at is None


def test_only_the_owner_appeals_and_only_within_six_months(
    report_on, decide, moderator, client_for
):
    track = TrackFactory()
    decision_id = take_down(report_on, decide, moderator, track)
    assert appeal(client_for, UserFactory(), decision_id).status_code == 404
    assert (
        appeal(client_for, track.creator, "00000000-0000-4000-8000-000000000000").status_code == 404
    )
    empty = appeal(client_for, track.creator, decision_id, text="")
    assert empty.status_code == 400
    Decision.objects.filter(pk=decision_id).update(created_at=timezone.now() - timedelta(days=200))
    late = appeal(client_for, track.creator, decision_id)
    assert late.status_code == 409
    assert Appeal.objects.count() == 0


def test_three_copyright_strikes_suspend_uploads_and_sales_until_a_reversal(
    report_on, decide, moderators, client_for, settings, django_capture_on_commit_callbacks
):
    settings.MODERATION_STRIKES = 3
    first, second = moderators
    owner = CreatorFactory()
    client = client_for(owner)
    decisions = []
    for n in range(3):
        track = TrackFactory(creator=owner)
        with django_capture_on_commit_callbacks(execute=True):
            decisions.append(take_down(report_on, decide, first, track, **COPYRIGHT))
        upload = client.post(
            "/api/v1/tracks",
            {"file": _wav("song.wav"), "title": f"After strike {n + 1}"},
            format="multipart",
        )
        if n < 2:
            assert upload.status_code == 201, upload.json()
    assert upload.status_code == 403 and upload.json()["code"] == "account_suspended"
    product = client.post(
        "/api/v1/marketplace/products",
        {
            "title": "Pack",
            "description": "x",
            "price": 500,
            "currency": "EUR",
            "product_type": "pack",
        },
        format="json",
    )
    assert product.status_code == 403 and product.json()["code"] == "account_suspended"
    owner.refresh_from_db()
    assert owner.publishing_suspended_at is not None
    assert Suspension.objects.filter(user=owner, lifted_at__isnull=True).count() == 1
    assert AuditLog.objects.filter(action="moderation.suspension").count() == 1
    assert [m for m in mail.outbox if "no longer upload" in m.subject]
    # Listening, reading and buying are not affected.
    assert client.get("/api/v1/tracks").status_code == 200

    appeal_id = appeal(client_for, owner, decisions[0]).json()["id"]
    assert decide_appeal(client_for, second, appeal_id).status_code == 200
    owner.refresh_from_db()
    assert owner.publishing_suspended_at is None
    assert AuditLog.objects.filter(action="moderation.suspension_lifted").count() == 1
    again = client.post(
        "/api/v1/tracks", {"file": _wav("again.wav"), "title": "Back"}, format="multipart"
    )
    assert again.status_code == 201, again.json()


def test_strikes_older_than_a_year_and_other_categories_do_not_count(
    report_on, decide, moderator, settings
):
    settings.MODERATION_STRIKES = 2
    owner = CreatorFactory()
    old = take_down(report_on, decide, moderator, TrackFactory(creator=owner), **COPYRIGHT)
    Decision.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(days=400))
    take_down(report_on, decide, moderator, TrackFactory(creator=owner), category="hate")
    take_down(report_on, decide, moderator, TrackFactory(creator=owner), **COPYRIGHT)
    owner.refresh_from_db()
    assert owner.publishing_suspended_at is None
    take_down(report_on, decide, moderator, TrackFactory(creator=owner), **COPYRIGHT)
    owner.refresh_from_db()
    assert owner.publishing_suspended_at is not None
    assert Product.objects.count() == 0


def test_lapsed_strikes_lift_the_suspension(report_on, decide, moderator, settings):
    from moderation.tasks import lift_lapsed_suspensions

    settings.MODERATION_STRIKES = 1
    owner = CreatorFactory()
    decision_id = take_down(report_on, decide, moderator, TrackFactory(creator=owner), **COPYRIGHT)
    owner.refresh_from_db()
    assert owner.publishing_suspended_at is not None
    assert lift_lapsed_suspensions.delay().get() == 0
    Decision.objects.filter(pk=decision_id).update(created_at=timezone.now() - timedelta(days=366))
    assert lift_lapsed_suspensions.delay().get() == 1
    owner.refresh_from_db()
    assert owner.publishing_suspended_at is None
    assert lift_lapsed_suspensions.delay().get() == 0  # twice is harmless


def _wav(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, wav_bytes(), "audio/wav")
