"""Refund notifications: the provider's signed webhook is the only authority."""

import pytest
from django.core.management import call_command

from marketplace.models import License, Order
from payments.intake.webhooks import parse
from payments.models import LedgerEntry, Refund, SellerBalance, SellerTransfer, WebhookEvent
from payments.refunds.reconcile import reconcile_refunds
from tests.marketplace.factories import completed_order, opened_refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_refund(psp, client_for):
    order = completed_order()
    response = client_for(order.buyer).post(f"/api/v1/marketplace/orders/{order.id}/refund", {})
    assert response.status_code == 200
    return Refund.objects.get(pk=response.json()["refund"]["id"])


def envelope(event_type: str, obj: dict, event_id: str = "evt_1") -> dict:
    return {
        "merchant_id": "merchant_veza",
        "event_id": event_id,
        "event_type": event_type,
        "content": {"type": "refund_details", "object": obj},
    }


def test_succeeded_webhook_finalises_refund_order_licences_balance_and_transfers(
    pending_refund, post_webhook
):
    order = pending_refund.order
    seller = order.items.get().seller
    assert SellerBalance.objects.get(seller=seller).pending == 900

    response = post_webhook(
        envelope(
            "refund_succeeded",
            {"refund_id": pending_refund.provider_refund_id, "status": "succeeded"},
        )
    )

    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    pending_refund.refresh_from_db()
    order.refresh_from_db()
    assert pending_refund.status == Refund.Status.SUCCEEDED
    assert pending_refund.succeeded_at is not None
    assert order.status == Order.Status.REFUNDED
    assert not License.objects.active().filter(order=order).exists()
    assert SellerBalance.objects.get(seller=seller).pending == 0
    debit = LedgerEntry.objects.get(order=order, kind=LedgerEntry.Kind.REFUND_DEBIT)
    assert (debit.requested_amount, debit.applied_amount, debit.refund_id) == (
        -900,
        -900,
        pending_refund.id,
    )
    assert SellerTransfer.objects.get(order=order).status == SellerTransfer.Status.REVERSED
    event = WebhookEvent.objects.get(event_id="evt_1")
    assert (event.outcome, event.refund_id, event.kind) == (
        "processed",
        pending_refund.id,
        "refund",
    )
    call_command("check_ledger")


def test_replayed_success_webhook_leaves_succeeded_at_unchanged(pending_refund, post_webhook):
    flat = {"event_type": "refund_succeeded", "refund_id": pending_refund.provider_refund_id}
    assert post_webhook(flat).status_code == 200
    pending_refund.refresh_from_db()
    first_succeeded_at = pending_refund.succeeded_at

    replay = post_webhook(flat)

    assert replay.status_code == 200
    assert replay.json() == {"status": "duplicate"}
    pending_refund.refresh_from_db()
    assert pending_refund.succeeded_at == first_succeeded_at
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND_DEBIT).count() == 1


def test_replayed_event_id_is_stored_once_and_does_nothing(pending_refund, post_webhook):
    body = envelope("refund_succeeded", {"refund_id": pending_refund.provider_refund_id})
    post_webhook(body)
    replay = post_webhook(body)
    assert replay.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.filter(event_id="evt_1").count() == 1
    event = WebhookEvent.objects.get(event_id="evt_1")
    assert event.deliveries == 2  # the replay is counted on the event, not stored as a row
    assert WebhookEvent.objects.filter(provider_event_id="evt_1").count() == 1


def test_failed_webhook_restores_the_order_and_a_new_request_works(
    pending_refund, post_webhook, client_for, psp
):
    order = pending_refund.order
    response = post_webhook(
        {
            "event_type": "refund_failed",
            "object": {
                "refund_id": pending_refund.provider_refund_id,
                "status": "failed",
                "error_message": "Issuer declined",
            },
        }
    )
    assert response.status_code == 200
    pending_refund.refresh_from_db()
    order.refresh_from_db()
    assert pending_refund.status == Refund.Status.FAILED
    assert pending_refund.error_message == "Issuer declined"
    assert pending_refund.failed_at is not None
    assert order.status == Order.Status.COMPLETED
    assert License.objects.active().filter(order=order).count() == 1
    assert SellerBalance.objects.get(seller=order.items.get().seller).pending == 900

    retry = client_for(order.buyer).post(f"/api/v1/marketplace/orders/{order.id}/refund", {})
    assert retry.status_code == 200
    assert Refund.objects.filter(order=order).count() == 2
    order.refresh_from_db()
    assert order.status == Order.Status.REFUND_PENDING


def test_late_failure_after_success_changes_nothing(pending_refund, post_webhook):
    ref = pending_refund.provider_refund_id
    post_webhook({"event_type": "refund_succeeded", "refund_id": ref})
    late = post_webhook({"event_type": "refund_failed", "refund_id": ref, "status": "failed"})
    assert late.status_code == 200
    pending_refund.refresh_from_db()
    assert pending_refund.status == Refund.Status.SUCCEEDED
    assert pending_refund.order.status == Order.Status.REFUNDED


@pytest.mark.parametrize("status", ["pending", "processing", "review"])
def test_non_terminal_status_changes_nothing(pending_refund, post_webhook, status):
    response = post_webhook(
        {
            "event_type": "refund_processing",
            "refund_id": pending_refund.provider_refund_id,
            "status": status,
        }
    )
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    pending_refund.refresh_from_db()
    assert pending_refund.status == Refund.Status.PENDING


def test_unknown_refund_id_answers_200_and_is_recorded_as_ignored(db, post_webhook):
    response = post_webhook({"event_type": "refund_succeeded", "refund_id": "ref_unknown_123"})
    assert response.status_code == 200
    assert WebhookEvent.objects.get(refund_ref="ref_unknown_123").outcome == "ignored"


def test_refund_event_without_refund_id_is_400(db, post_webhook):
    response = post_webhook({"event_type": "refund_succeeded", "status": "succeeded"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"


def test_refund_found_by_our_id_in_metadata_when_provider_id_is_missing(
    psp, client_for, post_webhook, settings
):
    psp.refund_mode = "timeout"
    psp.get_mode = "timeout"
    order = completed_order()
    client_for(order.buyer).post(f"/api/v1/marketplace/orders/{order.id}/refund", {})
    refund = Refund.objects.get(order=order)
    assert refund.provider_refund_id is None
    response = post_webhook(
        envelope(
            "refund_succeeded",
            {
                "refund_id": "psp_ref_999",
                "status": "succeeded",
                "metadata": {"refund_id": str(refund.id)},
            },
        )
    )
    assert response.json() == {"status": "processed"}
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.provider_refund_id == "psp_ref_999"


def test_a_refund_beyond_the_money_left_records_debt_instead_of_losing_it(
    pending_refund, post_webhook
):
    from tests.payments.ledger_helpers import post_entry

    seller = pending_refund.order.items.get().seller
    # 600 of the sale's 900 already left (a payout-like debit from pending).
    post_entry(seller=seller, currency="EUR", kind=LedgerEntry.Kind.ADJUSTMENT, amount=-600)
    assert SellerBalance.objects.get(seller=seller).pending == 300

    post_webhook({"event_type": "refund_succeeded", "refund_id": pending_refund.provider_refund_id})

    debit = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND_DEBIT)
    assert (debit.requested_amount, debit.applied_amount, debit.pending_delta) == (-900, -300, -300)
    debt = LedgerEntry.objects.get(kind=LedgerEntry.Kind.DEBT)
    assert (debt.requested_amount, debt.debt_delta, debt.refund_id) == (
        -600,
        600,
        pending_refund.pk,
    )
    balance = SellerBalance.objects.get(seller=seller)
    assert (balance.pending, balance.available, balance.debt) == (0, 0, 600)
    assert balance.total == debt.balance_after == -600
    call_command("check_ledger")


@pytest.mark.parametrize(
    "payload, kind, refund_ref",
    [
        ({"event_type": "refund_succeeded", "refund_id": "r1"}, "refund", "r1"),
        ({"event_type": "Refund_Succeeded", "payment_id": "p1"}, "refund", ""),
        ({"event_type": "payment_succeeded", "payment_id": "p1"}, "payment", ""),
        ({"refund_id": "r2", "status": "succeeded"}, "refund", "r2"),
        ({}, "payment", ""),
        ({"event_type": "something", "object": {"refund_id": "r3"}}, "refund", "r3"),
    ],
    ids=["flat", "mixed-case", "payment", "refund-id-alone", "empty", "nested-object"],
)
def test_dispatcher_on_its_six_shapes(payload, kind, refund_ref):
    import json

    note = parse(json.dumps(payload).encode())
    assert ("refund" if note.is_refund else "payment") == kind
    assert (note.refund_id or note.metadata_refund_id) == refund_ref


def test_status_is_taken_from_the_event_type_when_absent():
    note = parse(b'{"event_type": "REFUND_FAILED", "refund_id": "r"}')
    assert note.refund_status == "failed"
    note = parse(b'{"event_type": "refund_succeeded", "object": {"refund_id": "r"}}')
    assert note.refund_status == "succeeded"


def test_bad_signature_is_401_and_nothing_changes(pending_refund, post_webhook):
    body = {"event_type": "refund_succeeded", "refund_id": pending_refund.provider_refund_id}
    assert post_webhook(body, secret="not-the-secret-at-all-0123456789").status_code == 401
    assert post_webhook(body, signature="").status_code == 401
    pending_refund.refresh_from_db()
    assert pending_refund.status == Refund.Status.PENDING
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_malformed_body_is_400(db, post_webhook, raw):
    response = post_webhook(raw)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"


def test_reconciliation_settles_a_stuck_pending_refund(pending_refund, psp, settings):

    settings.REFUND_RECONCILE_AFTER = 0
    assert reconcile_refunds() == {"still_pending": 1}
    psp.settle_refund(pending_refund.provider_refund_id, "succeeded")
    call_command("reconcile_refunds")
    pending_refund.refresh_from_db()
    assert pending_refund.status == Refund.Status.SUCCEEDED
    assert pending_refund.order.status == Order.Status.REFUNDED
    assert LedgerEntry.objects.filter(kind="refund_debit").count() == 1


def test_reconciliation_resubmits_a_crash_orphaned_refund_with_the_same_id(psp, settings):

    order = completed_order()
    # a crash between phase 1 and phase 2: pending, no provider id, never sent
    refund = opened_refund(order)
    settings.REFUND_RECONCILE_AFTER = 0
    psp.refund_mode = "ok"

    assert reconcile_refunds() == {"still_pending": 1}

    refund.refresh_from_db()
    assert refund.provider_refund_id == str(refund.id)
    assert [c.body["refund_id"] for c in psp.calls_to("POST", "/refunds")] == [str(refund.id)]
    psp.settle_refund(str(refund.id), "failed")
    assert reconcile_refunds() == {"failed": 1}
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    assert order.status == Order.Status.COMPLETED


def test_reconciliation_ignores_young_refunds(pending_refund, psp, settings):

    settings.REFUND_RECONCILE_AFTER = 3600
    assert reconcile_refunds() == {}
    assert psp.calls_to("GET", "/refunds/") == []


def test_sandbox_provider_runs_the_whole_lifecycle_through_signed_webhooks(
    client_for, settings, django_capture_on_commit_callbacks
):
    from tests.factories import UserFactory
    from tests.marketplace.factories import ProductFactory

    settings.HYPERSWITCH_BASE_URL = ""
    product = ProductFactory(price=2000)
    buyer = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        created = client_for(buyer).post(
            "/api/v1/marketplace/orders",
            {"items": [{"product_id": str(product.id)}]},
            format="json",
        )
    assert created.status_code == 201
    order = Order.objects.get(pk=created.json()["order"]["id"])
    assert order.status == Order.Status.COMPLETED
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(buyer).post(f"/api/v1/marketplace/orders/{order.id}/refund", {})
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert set(WebhookEvent.objects.values_list("source", "outcome")) == {("sandbox", "processed")}
    call_command("check_ledger")


@pytest.mark.parametrize("status, final", [("failure", "failed"), ("success", "succeeded")])
def test_provider_spellings_of_terminal_statuses_are_understood(
    pending_refund, post_webhook, status, final
):
    post_webhook(
        {
            "event_type": "refund_update",
            "refund_id": pending_refund.provider_refund_id,
            "status": status,
        }
    )
    pending_refund.refresh_from_db()
    assert pending_refund.status == final


def test_a_cache_flush_does_not_make_the_sandbox_forget_a_pending_refund(client_for, settings):
    """The sandbox keeps what it was asked in the database: after a cache flush, a refund it
    holds is found at reconciliation and settles, not "not found" (which would fail it)."""
    from django.core.cache import cache

    from payments.providers import get_provider
    from payments.refunds.reconcile import ReconcileOutcome, reconcile_refund
    from tests.marketplace.factories import completed_order, opened_refund

    settings.HYPERSWITCH_BASE_URL = ""
    order = completed_order()
    refund = opened_refund(order)
    get_provider().create_refund(
        payment_id=order.hyperswitch_payment_id,
        refund_id=str(refund.pk),
        amount=refund.amount,
        reason="requested_by_customer",
        order_id=str(order.pk),
    )
    cache.clear()

    assert reconcile_refund(refund=refund) == ReconcileOutcome.SUCCEEDED
    refund.refresh_from_db()
    assert (refund.status, refund.provider_refund_id) == (Refund.Status.SUCCEEDED, str(refund.pk))
