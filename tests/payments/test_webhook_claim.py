"""The claim of an event_id comes last, with the outcome, and what it rolls back."""

import pytest

from developer.models import OutboxEvent
from payments.intake import receiver
from payments.models import LedgerEntry, Refund, WebhookEvent
from tests.payments.test_partial_refunds import refund, succeed, three_item_order
from tests.payments.test_refund_webhooks import envelope, pending_refund  # noqa: F401

pytestmark = pytest.mark.django_db


def succeeded(refund: Refund, event_id: str) -> dict:
    return envelope(
        "refund_succeeded",
        {"refund_id": refund.provider_refund_id, "status": "succeeded"},
        event_id=event_id,
    )


def test_a_delivery_that_loses_the_claim_is_rolled_back_and_counted_as_a_duplicate(
    pending_refund,  # noqa: F811
    post_webhook,
    monkeypatch,
):
    """As when a concurrent first delivery commits between this one's replay check and its
    claim: this one's transaction is rolled back (no second row, no second movement) and
    the delivery is counted on the stored event."""
    assert post_webhook(succeeded(pending_refund, "evt_race")).json() == {"status": "processed"}
    counted = receiver._count_redelivery
    calls = []

    def replay_check_misses_once(event_key):
        calls.append(event_key)
        return False if len(calls) == 1 else counted(event_key)

    monkeypatch.setattr(receiver, "_count_redelivery", replay_check_misses_once)
    rows = WebhookEvent.objects.count()

    response = post_webhook(succeeded(pending_refund, "evt_race"))

    assert response.status_code == 200
    assert response.json() == {"status": "duplicate"}
    assert calls == ["evt_race", "evt_race"]
    assert WebhookEvent.objects.count() == rows
    assert WebhookEvent.objects.get(event_id="evt_race").deliveries == 2
    assert LedgerEntry.objects.filter(refund=pending_refund).count() == 1


def test_a_failing_claim_that_is_no_duplicate_is_an_error_and_applies_nothing(
    pending_refund,  # noqa: F811
    post_webhook,
    monkeypatch,
):
    def refuse(event):
        raise receiver._AlreadyClaimed() from receiver.IntegrityError("no such event")

    monkeypatch.setattr(receiver, "_claim", refuse)

    response = post_webhook(succeeded(pending_refund, "evt_odd"))

    assert response.status_code == 500  # the provider delivers it again

    pending_refund.refresh_from_db()
    assert pending_refund.status == Refund.Status.PENDING
    assert not LedgerEntry.objects.filter(refund=pending_refund).exists()
    stored = WebhookEvent.objects.get(provider_event_id="evt_odd")
    assert (stored.event_id, stored.outcome) == (None, "error")


def test_a_refund_event_reaches_the_buyer_and_every_seller_of_the_order(
    psp, client_for, post_webhook
):
    """Its audience comes from the items the refund read under the order's lock, all of
    them, not only the refunded ones."""
    order, items, seller_a, seller_b = three_item_order()
    body = refund(client_for(order.buyer), order, [items[1]]).json()["refund"]

    succeed(post_webhook, body["id"])

    event = OutboxEvent.objects.get(type="refund.succeeded")
    assert event.audience == sorted(str(u.pk) for u in (order.buyer, seller_a, seller_b))
    assert event.data["id"] == body["id"]
