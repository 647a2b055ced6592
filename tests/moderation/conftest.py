import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory


@pytest.fixture
def moderators(db):
    """Two staff members of the group Moderation (an appeal needs a second one)."""
    group = Group.objects.get(name="Moderation")
    pair = []
    for _ in range(2):
        member = UserFactory(is_staff=True)
        member.groups.add(group)
        pair.append(member)
    return pair


@pytest.fixture
def moderator(moderators):
    return moderators[0]


@pytest.fixture
def report_on(api_client):
    """``report_on(kind, pk, client=None, remote_addr=None, **fields)`` → the response."""

    def post(kind, pk, client=None, remote_addr="127.0.0.1", **fields):
        body = {
            "target_type": kind,
            "target_id": str(pk),
            "category": "illegal_content",
            "description": "This is clearly illegal content.",
            "reporter_email": "reporter@example.com",
            **fields,
        }
        return (client or api_client).post(
            "/api/v1/reports", body, format="json", REMOTE_ADDR=remote_addr
        )

    return post


TAKE_DOWN = {
    "action": "take_down",
    "ground": "law",
    "provision": "Copyright Act, section 2",
    "explanation": "The rights holder showed the original recording; this is a copy.",
    "automated": False,
}


@pytest.fixture
def decide(client_for):
    """``decide(moderator, report_id, **body)`` → the API's response."""

    def post(moderator, report_id, **body):
        return client_for(moderator).post(
            f"/api/v1/admin/moderation/reports/{report_id}/decide",
            body or TAKE_DOWN,
            format="json",
        )

    return post


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run
