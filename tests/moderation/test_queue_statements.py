"""GET /admin/moderation/reports: the moderators' queue in a fixed number of statements,
whatever its length (reporter, owner and decision joined, no query per report)."""

import pytest

from moderation.models import Report
from tests.factories import UserFactory
from tests.moderation.conftest import TAKE_DOWN
from tests.tracks.factories import TrackFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/moderation/reports"


def test_the_queue_costs_three_statements_for_one_report_or_several(
    report_on, decide, moderator, client_for, django_assert_num_queries
):
    reporter = client_for(UserFactory())
    first = report_on("track", TrackFactory().pk).json()["id"]
    client = client_for(moderator)
    client.get(URL)  # the session's last use written, as in steady state

    # (the caller from the authentication cache) the moderator's group; count; the page (reporter,
    # target owner and decision joined).
    with django_assert_num_queries(3):
        response = client.get(URL)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [first]

    owner = UserFactory()
    for index in range(5):
        track = TrackFactory(creator=owner)
        # signed-in and anonymous reporters, some decided
        report = report_on("track", track.pk, client=reporter if index % 2 else None).json()
        if index % 2 == 0:
            assert decide(moderator, report["id"], **TAKE_DOWN).status_code == 200
    with django_assert_num_queries(3):
        response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6 == Report.objects.count()
    assert [r["id"] for r in body["results"]] == [
        str(pk) for pk in Report.objects.order_by("created_at", "pk").values_list("pk", flat=True)
    ]
    assert [r["decision_action"] for r in body["results"]] == [
        None,
        "take_down",
        None,
        "take_down",
        None,
        "take_down",
    ]
    assert sum(r["reporter_id"] is not None for r in body["results"]) == 2
    assert all(r["target_owner_id"] == str(owner.pk) for r in body["results"][1:])
