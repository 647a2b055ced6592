"""The moderation lists cost a fixed number of statements, whatever their length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tests.tracks.factories import TrackFactory

pytestmark = pytest.mark.django_db


def statements(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url", ["/api/v1/moderation/decisions", "/api/v1/admin/moderation/reports"]
)
def test_lists_do_not_grow_with_their_rows(report_on, decide, moderators, client_for, url):
    first, second = moderators
    owner = UserFactory()

    def one_more():
        track = TrackFactory(creator=owner)
        decision = decide(first, report_on("track", track.pk).json()["id"]).json()
        client_for(owner).post(
            f"/api/v1/moderation/decisions/{decision['id']}/appeal", {"text": "x"}, format="json"
        )

    reader = client_for(owner if "admin" not in url else second)
    one_more()
    reader.get(url)  # warm: the caller comes from the authentication cache after this
    few = statements(reader, url)
    for _ in range(4):
        one_more()
    assert statements(reader, url) == few


def test_the_decisions_page_reads_in_a_handful_of_statements(
    report_on, decide, moderator, client_for, django_assert_max_num_queries
):
    owner = UserFactory()
    for _ in range(3):
        decide(moderator, report_on("track", TrackFactory(creator=owner).pk).json()["id"])
    client = client_for(owner)
    # The caller (authentication and its session), the count, the page joined to its appeals.
    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/moderation/decisions").json()
    assert body["count"] == 3
