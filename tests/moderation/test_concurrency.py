"""Two moderators deciding the same report at once, and two appeals of one decision at once:
one wins, the other is told so; nothing is decided or hidden twice (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection

from moderation.models import Appeal, Decision, Report
from moderation.services import appeal_decision, decide_report
from tests.factories import UserFactory
from tests.moderation.conftest import TAKE_DOWN
from tests.tracks.factories import TrackFactory
from tracks.models import TrackChange
from veza.exceptions import DomainError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are real on PostgreSQL only")


def race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        barrier.wait()
        try:
            outcomes.append(call())
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_moderators_decide_one_report_once():
    track = TrackFactory()
    first, second = UserFactory(role="admin"), UserFactory(role="admin")
    report = Report.objects.create(
        target_type="track",
        target_id=track.pk,
        target_owner=track.creator,
        category="illegal_content",
        description="Illegal, clearly illegal.",
        reporter_email="r@example.com",
    )
    body = {k: v for k, v in TAKE_DOWN.items()}
    outcomes = race(
        lambda: decide_report(report=report, moderator=first, **body),
        lambda: decide_report(report=report, moderator=second, **body),
    )
    assert sorted(o if isinstance(o, str) else "decided" for o in outcomes) == [
        "already_decided",
        "decided",
    ]
    assert Decision.objects.count() == 1
    assert TrackChange.objects.filter(track=track).count() == 1


def test_one_appeal_per_decision_under_a_race():
    track = TrackFactory()
    moderator = UserFactory(role="admin")
    report = Report.objects.create(
        target_type="track",
        target_id=track.pk,
        target_owner=track.creator,
        category="hate",
        description="Hateful words in it.",
        reporter_email="r@example.com",
    )
    decision = decide_report(report=report, moderator=moderator, **TAKE_DOWN)
    outcomes = race(
        *[lambda: appeal_decision(decision=decision, author=track.creator, text="Mine.")] * 4
    )
    assert sorted(o if isinstance(o, str) else "appealed" for o in outcomes) == [
        "appeal_not_allowed",
        "appeal_not_allowed",
        "appeal_not_allowed",
        "appealed",
    ]
    assert Appeal.objects.count() == 1
