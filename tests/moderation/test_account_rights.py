"""Trust and safety meets the user's rights: the export holds the notices the user sent and
the decisions on its content; an erasure keeps the notices without who sent them."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.models import Report
from privacy.erasure import ErasureOutcome, erase_account
from tests.factories import UserFactory
from tests.privacy.test_export import download, export_now, read_zip
from tests.tracks.factories import TrackFactory

pytestmark = pytest.mark.django_db


def test_the_export_holds_reports_sent_and_decisions_received(
    client_for, api_client, report_on, decide, moderator, on_commit
):
    uploader = UserFactory()
    track = TrackFactory(creator=uploader)
    decide(moderator, report_on("track", track.pk).json()["id"])
    report_on("track", TrackFactory().pk, client=client_for(uploader), description="Spam, spam.")

    export = export_now(client_for(uploader), on_commit)
    archive = read_zip(download(api_client, export["download_url"]))
    sent = json.loads(archive.read("moderation_reports.json"))
    received = json.loads(archive.read("moderation_decisions.json"))
    assert [r["description"] for r in sent] == ["Spam, spam."]
    assert [d["target_id"] for d in received] == [str(track.pk)]
    assert received[0]["action"] == "take_down" and received[0]["explanation"]


def test_an_erasure_keeps_the_reports_without_their_sender(client_for, report_on):
    reporter = UserFactory()
    report_on("track", TrackFactory().pk, client=client_for(reporter), reporter_name="Me")
    type(reporter).objects.filter(pk=reporter.pk).update(
        deletion_scheduled_for=timezone.now() - timedelta(minutes=1)
    )
    assert erase_account(user_id=reporter.pk) == ErasureOutcome.ERASED
    report = Report.objects.get()
    assert report.reporter is None
    assert (report.reporter_email, report.reporter_name, report.ip_address) == ("", "", None)
