"""GET /admin/moderation/stats: the DSA transparency figures, for admins only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.models import Report
from tests.factories import UserFactory
from tests.tracks.factories import TrackFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/moderation/stats"


def test_counts_reports_decisions_appeals_and_the_median_wait(
    report_on, decide, moderators, client_for, admin_user
):
    first, second = moderators
    tracks = [TrackFactory() for _ in range(3)]
    ids = [report_on("track", t.pk).json()["id"] for t in tracks]
    report_on("track", tracks[0].pk, category="spam", description="Spam spam spam spam.")
    copyright = {"work_title": "W", "rights_holder": "R"}
    report_on("track", tracks[2].pk, category="copyright", copyright=copyright)
    for hours, report_id in zip((2, 4), ids[:2], strict=True):
        Report.objects.filter(pk=report_id).update(
            created_at=timezone.now() - timedelta(hours=hours)
        )
    taken = decide(first, ids[0]).json()
    decide(first, ids[1], action="dismiss", explanation="Nothing wrong here.")
    appeal = client_for(tracks[0].creator).post(
        f"/api/v1/moderation/decisions/{taken['id']}/appeal", {"text": "Mine."}, format="json"
    )
    client_for(second).post(
        f"/api/v1/admin/moderation/appeals/{appeal.json()['id']}/decide",
        {"outcome": "reversed", "explanation": "Licensed."},
        format="json",
    )

    response = client_for(admin_user).get(URL)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["reports"] == 5
    assert body["reports_by_category"]["illegal_content"] == 3
    assert body["reports_by_category"]["spam"] == 1
    assert body["reports_by_category"]["copyright"] == 1
    assert body["reports_by_target_type"] == {"track": 5, "playlist": 0, "user": 0, "product": 0}
    assert body["decisions"] == 2
    assert body["decisions_by_action"] == {"take_down": 1, "dismiss": 1}
    assert body["decisions_by_ground"] == {"law": 1, "terms": 0}
    # Reports decided: 2 h (the spam report decided with it: minutes), 4 h; median of three.
    assert 1.9 < body["median_hours_to_decision"] < 2.1
    assert body["appeals_received"] == 1 and body["decisions_reversed"] == 1

    empty = client_for(admin_user).get(URL, {"from": "2020-01-01", "to": "2020-12-31"}).json()
    assert empty["reports"] == 0 and empty["median_hours_to_decision"] is None
    assert empty["from"].startswith("2020-01-01") and empty["to"].startswith("2021-01-01")


@pytest.mark.parametrize(
    "query",
    [{"from": "yesterday"}, {"to": "2026-13-01"}, {"from": "2026-02-01", "to": "2026-01-01"}],
)
def test_bad_periods_are_400(client_for, admin_user, query):
    response = client_for(admin_user).get(URL, query)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_only_admins_read_the_figures(client_for, moderator, api_client):
    assert api_client.get(URL).status_code == 401
    assert client_for(UserFactory()).get(URL).status_code == 403
    assert client_for(moderator).get(URL).status_code == 403
