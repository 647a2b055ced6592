"""Seller money: release, payout run, payout webhooks, reconciliation, debt."""

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditLog
from marketplace.models import Order
from payments.models import (
    LedgerEntry,
    Payout,
    Refund,
    SellerBalance,
    SellerTransfer,
    WebhookEvent,
)
from payments.payouts.checks import payout_differences
from payments.payouts.methods import set_payouts_paused
from payments.payouts.reconcile import reconcile_payouts
from payments.payouts.release import release_due, release_order
from payments.payouts.services import retry_payout, run_payouts, submit_payout
from payments.refunds.approvals import approve_refund
from payments.refunds.services import open_refund
from payments.refunds.settle import apply_refund_status
from tests.factories import AdminFactory, CreatorFactory
from tests.marketplace.factories import opened_refund
from tests.payments.payout_helpers import past_window, released, sold, with_method

pytestmark = pytest.mark.django_db


def balance_of(seller, currency="EUR") -> SellerBalance:
    return SellerBalance.objects.get(seller=seller, currency=currency)


def payout_event(payout, event_type, status=None, **extra):
    return {
        "merchant_id": "m",
        "event_id": f"evt_{event_type}_{payout.pk}_{extra.pop('n', 0)}",
        "event_type": event_type,
        "content": {
            "type": "payout_details",
            "object": {
                "payout_id": str(payout.pk),
                "status": status or event_type.removeprefix("payout_"),
                "amount": payout.amount,
                "currency": payout.currency,
                **extra,
            },
        },
    }


# --- release ------------------------------------------------------------------------------
def test_release_moves_the_share_from_pending_to_available_once():
    order = past_window(sold(price=2000))
    seller = order.items.get().seller

    first = release_due()
    second = release_due()

    assert first == {"transfers": 1, "orders": 1}
    assert second == {}
    balance = balance_of(seller)
    assert (balance.pending, balance.available) == (0, 1800)
    assert LedgerEntry.objects.filter(order=order, kind="release").count() == 1
    transfer = SellerTransfer.objects.get(order=order)
    assert transfer.status == SellerTransfer.Status.RELEASED
    assert transfer.released_at is not None


def test_release_waits_for_the_refund_window():
    order = sold()
    assert release_due() == {}
    assert balance_of(order.items.get().seller).pending == 900
    assert SellerTransfer.objects.get(order=order).status == SellerTransfer.Status.PENDING


@pytest.mark.parametrize("status", [Order.Status.REFUND_PENDING, Order.Status.DISPUTED])
def test_release_skips_orders_with_a_pending_refund_or_an_open_dispute(status):
    order = past_window(sold())
    Order.objects.filter(pk=order.pk).update(status=status)
    assert release_order(order_id=order.pk) == 0
    balance = balance_of(order.items.get().seller)
    assert (balance.pending, balance.available) == (900, 0)


def test_release_moves_only_what_a_partial_refund_left_standing(psp):
    order = sold(price=2000)
    seller = order.items.get().seller
    refund = opened_refund(order)
    apply_refund_status(refund_id=refund.pk, status=Refund.Status.SUCCEEDED)
    past_window(order)
    release_due()
    balance = balance_of(seller)
    assert (balance.pending, balance.available, balance.debt) == (0, 0, 0)
    assert SellerTransfer.objects.get(order=order).status == SellerTransfer.Status.REVERSED


# --- refunds and debt ---------------------------------------------------------------------
def test_refund_inside_the_window_debits_pending_and_never_touches_a_payout(psp):
    order = sold(price=2000)
    seller = order.items.get().seller
    with_method(seller)
    assert run_payouts() == {}  # nothing available yet
    refund = opened_refund(order)
    apply_refund_status(refund_id=refund.pk, status=Refund.Status.SUCCEEDED)

    balance = balance_of(seller)
    assert (balance.pending, balance.available, balance.debt) == (0, 0, 0)
    assert not Payout.objects.exists()
    assert psp.calls_to("POST", "/payouts") == []


def test_refund_after_payout_creates_debt_recovered_by_the_next_sale(psp, post_webhook):
    seller = CreatorFactory()
    with_method(seller)
    order = released(seller, price=2000)
    run_payouts()
    payout = Payout.objects.get(seller=seller)
    assert post_webhook(payout_event(payout, "payout_success")).status_code == 200

    admin = AdminFactory(is_staff=True, is_superuser=True)
    refund = open_refund(
        order_id=order.pk,
        requested_by=admin,
        reason="goodwill",
        as_staff=True,
        override_window_reason="late complaint",
    )
    approve_refund(  # an override waits
        refund_id=refund.pk, approved_by=AdminFactory(is_staff=True, is_superuser=True)
    )
    apply_refund_status(refund_id=refund.pk, status=Refund.Status.SUCCEEDED)
    balance = balance_of(seller)
    assert (balance.pending, balance.available, balance.debt) == (0, 0, 1800)
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID  # the paid payout is untouched

    sold(seller, price=1000)  # earns 900, all of it repays the debt
    balance = balance_of(seller)
    assert (balance.pending, balance.debt) == (0, 900)
    assert LedgerEntry.objects.filter(seller=seller, kind="debt_recovery").count() == 1


# --- the payout run -----------------------------------------------------------------------
def test_payout_run_pays_the_whole_available_with_the_contract_body(
    psp, django_capture_on_commit_callbacks
):
    seller = CreatorFactory()
    with_method(seller, token="tok_iban")
    order = released(seller, price=2000)

    with django_capture_on_commit_callbacks(execute=True):
        summary = run_payouts()

    assert summary["created"] == 1
    payout = Payout.objects.get(seller=seller)
    assert (payout.amount, payout.currency, payout.status) == (1800, "EUR", "pending")
    assert payout.provider_payout_id == str(payout.pk)
    assert balance_of(seller).available == 0
    entry = LedgerEntry.objects.get(payout=payout)
    assert (entry.kind, entry.available_delta, entry.applied_amount) == ("payout", -1800, -1800)
    assert SellerTransfer.objects.get(order=order).payout == payout
    [call] = psp.calls_to("POST", "/payouts/create")
    assert call.headers["api-key"] == psp.api_key
    assert call.body == {
        "payout_id": str(payout.pk),
        "amount": 1800,
        "currency": "EUR",
        "customer_id": str(seller.pk),
        "payout_type": "bank",
        "payout_token": "tok_iban",
        "confirm": True,
        "auto_fulfill": True,
        "description": f"Veza payout {payout.pk}",
        "metadata": {"seller_id": str(seller.pk)},
    }
    assert [m.subject for m in mail.outbox] == ["Your Veza payout is on its way"]


def test_payout_run_skips_below_minimum_paused_without_method_and_in_flight(psp, settings):
    settings.PAYOUT_MINIMUM = 1000
    small, paused, no_method, busy = (CreatorFactory() for _ in range(4))
    released(small, price=1000)  # 900 < 1000
    with_method(small)
    released(paused, price=2000)
    method = with_method(paused)
    set_payouts_paused(seller=paused, paused=True)
    released(no_method, price=2000)
    with_method(busy)
    released(busy, price=2000)
    run_payouts()
    released(busy, price=2000)

    run_payouts()

    assert Payout.objects.filter(seller=busy).count() == 1
    assert not Payout.objects.filter(seller__in=[small, paused, no_method]).exists()
    assert balance_of(busy).available == 1800
    method.refresh_from_db()
    assert method.payouts_paused
    assert AuditLog.objects.filter(action="payouts.paused").exists()


def test_definite_refusal_fails_the_payout_and_returns_the_money(psp):
    psp.payout_mode = "refuse"
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)

    run_payouts()

    payout = Payout.objects.get(seller=seller)
    assert payout.status == Payout.Status.FAILED
    assert "Invalid payout method" in payout.failure_reason
    assert balance_of(seller).available == 1800
    assert LedgerEntry.objects.filter(payout=payout, kind="payout_return").count() == 1
    transfer = SellerTransfer.objects.get(seller=seller)
    assert (transfer.status, transfer.payout) == (SellerTransfer.Status.RELEASED, None)


def test_timeout_leaves_it_pending_and_a_retried_run_does_not_pay_twice(psp, settings):
    psp.payout_mode = "timeout_after_create"
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)

    run_payouts()
    psp.payout_mode = "ok"
    run_payouts()  # the retried run: the payout is in flight

    payout = Payout.objects.get(seller=seller)
    assert payout.status == Payout.Status.PENDING
    assert payout.provider_payout_id is None
    assert balance_of(seller).available == 0

    settings.PAYOUT_RECONCILE_AFTER = 0
    assert reconcile_payouts() == {"still_pending": 1}
    payout.refresh_from_db()
    assert payout.provider_payout_id == str(payout.pk)
    assert len(psp.calls_to("POST", "/payouts/create")) == 1
    assert list(psp.payouts) == [str(payout.pk)]


def test_timeout_before_the_provider_saw_it_is_resubmitted_with_the_same_id(psp, settings):
    psp.payout_mode = "timeout"
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    payout = Payout.objects.get(seller=seller)
    assert psp.payouts == {}

    psp.payout_mode = "ok"
    settings.PAYOUT_RECONCILE_AFTER = 0
    assert reconcile_payouts() == {"resubmitted": 1}
    assert reconcile_payouts() == {"still_pending": 1}

    bodies = [c.body["payout_id"] for c in psp.calls_to("POST", "/payouts/create")]
    assert bodies == [str(payout.pk), str(payout.pk)]
    assert list(psp.payouts) == [str(payout.pk)]  # exactly one payout at the provider
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PENDING


def test_reconciliation_applies_a_terminal_answer(psp, settings):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    payout = Payout.objects.get(seller=seller)
    psp.settle_payout(str(payout.pk), "success")
    settings.PAYOUT_RECONCILE_AFTER = 0

    assert reconcile_payouts() == {"paid": 1}
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert payout.paid_at is not None


def test_fake_provider_dedupes_a_repeated_payout_id(psp):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    payout = Payout.objects.get(seller=seller)

    submission = submit_payout(payout=payout)  # the same id again: 400, then GET

    assert submission.accepted
    assert submission.payout.status == Payout.Status.PENDING
    assert len(psp.calls_to("POST", "/payouts/create")) == 2
    assert len(psp.payouts) == 1


# --- webhooks -----------------------------------------------------------------------------
@pytest.fixture
def pending_payout(psp):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    return Payout.objects.get(seller=seller)


def test_payout_success_marks_it_paid_and_its_transfers_paid(
    pending_payout, post_webhook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(payout_event(pending_payout, "payout_success"))

    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    pending_payout.refresh_from_db()
    assert pending_payout.status == Payout.Status.PAID
    assert pending_payout.paid_at is not None
    transfer = SellerTransfer.objects.get(seller=pending_payout.seller)
    assert (transfer.status, transfer.payout) == (SellerTransfer.Status.PAID, pending_payout)
    assert balance_of(pending_payout.seller).available == 0
    event = WebhookEvent.objects.get(event_type="payout_success")
    assert event.kind == WebhookEvent.Kind.PAYOUT
    assert "Your Veza payout has arrived" in [m.subject for m in mail.outbox]


@pytest.mark.parametrize("event_type", ["payout_failed", "payout_cancelled", "payout_expired"])
def test_failure_events_fail_the_payout_and_return_the_money(
    pending_payout, post_webhook, event_type
):
    response = post_webhook(payout_event(pending_payout, event_type, error_message="closed"))

    assert response.status_code == 200
    pending_payout.refresh_from_db()
    assert pending_payout.status == Payout.Status.FAILED
    assert pending_payout.failure_reason == "closed"
    assert balance_of(pending_payout.seller).available == 1800
    assert LedgerEntry.objects.filter(payout=pending_payout, kind="payout_return").count() == 1
    transfer = SellerTransfer.objects.get(seller=pending_payout.seller)
    assert transfer.status == SellerTransfer.Status.RELEASED


@pytest.mark.parametrize("event_type", ["payout_initiated", "payout_processing"])
def test_non_terminal_events_change_nothing(pending_payout, post_webhook, event_type):
    response = post_webhook(payout_event(pending_payout, event_type, status="pending"))
    assert response.json() == {"status": "ignored"}
    pending_payout.refresh_from_db()
    assert pending_payout.status == Payout.Status.PENDING


def test_reversed_after_paid_returns_the_money(pending_payout, post_webhook):
    post_webhook(payout_event(pending_payout, "payout_success"))
    response = post_webhook(payout_event(pending_payout, "payout_reversed"))

    assert response.json() == {"status": "processed"}
    pending_payout.refresh_from_db()
    assert pending_payout.status == Payout.Status.REVERSED
    assert pending_payout.paid_at is not None
    assert balance_of(pending_payout.seller).available == 1800
    transfer = SellerTransfer.objects.get(seller=pending_payout.seller)
    assert (transfer.status, transfer.payout) == (SellerTransfer.Status.RELEASED, None)
    assert payout_differences() == []


@pytest.mark.parametrize(
    ("first", "second", "final"),
    [
        ("payout_success", "payout_success", Payout.Status.PAID),
        ("payout_success", "payout_failed", Payout.Status.PAID),
        ("payout_failed", "payout_success", Payout.Status.FAILED),
        ("payout_failed", "payout_failed", Payout.Status.FAILED),
        ("payout_failed", "payout_reversed", Payout.Status.FAILED),
        ("payout_success", "payout_initiated", Payout.Status.PAID),
    ],
)
def test_duplicate_and_out_of_order_pairs_keep_the_first_terminal_state(
    pending_payout, post_webhook, first, second, final
):
    post_webhook(payout_event(pending_payout, first, n=1))
    response = post_webhook(payout_event(pending_payout, second, n=2))

    assert response.status_code == 200
    assert response.json()["status"] in {"duplicate", "ignored"}
    pending_payout.refresh_from_db()
    assert pending_payout.status == final
    expected_available = 1800 if final == Payout.Status.FAILED else 0
    assert balance_of(pending_payout.seller).available == expected_available
    assert LedgerEntry.objects.filter(payout=pending_payout, kind="payout_return").count() == (
        1 if final == Payout.Status.FAILED else 0
    )
    assert payout_differences() == []


def test_a_replayed_event_id_is_a_duplicate(pending_payout, post_webhook):
    payload = payout_event(pending_payout, "payout_failed")
    post_webhook(payload)
    response = post_webhook(payload)
    assert response.json() == {"status": "duplicate"}
    assert LedgerEntry.objects.filter(payout=pending_payout, kind="payout_return").count() == 1


def test_unknown_payout_id_is_ignored(post_webhook, db):
    response = post_webhook(
        {"event_type": "payout_success", "payout_id": "po_nobody", "status": "success"}
    )
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}


def test_retry_of_a_failed_payout_pays_again_as_a_new_payout(psp):
    psp.payout_mode = "refuse"
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    failed = Payout.objects.get(seller=seller)
    psp.payout_mode = "ok"

    new = retry_payout(payout=failed, actor=AdminFactory())

    assert new is not None and new.pk != failed.pk
    assert (new.status, new.amount) == (Payout.Status.PENDING, 1800)
    failed.refresh_from_db()
    assert failed.status == Payout.Status.FAILED
    assert AuditLog.objects.filter(action="payout.retried", target_id=str(failed.pk)).exists()


def test_timestamps_are_aware(pending_payout):
    assert timezone.is_aware(pending_payout.created_at)
