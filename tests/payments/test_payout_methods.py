"""Payout methods as Hyperswitch keeps them: a lapsing widget token, the saved method's id,
every payout status, and a seller paid again once it gives a new method."""

import pytest
from django.core import mail

from payments.models import Payout, PayoutMethod, SellerBalance
from payments.payouts.reconcile import reconcile_payouts
from payments.payouts.services import run_payouts
from tests.factories import CreatorFactory, UserFactory
from tests.hyperswitch.webhook_bodies import payout_body, signed_post
from tests.payments.payout_helpers import released, with_method

pytestmark = pytest.mark.django_db


def balance_of(seller) -> SellerBalance:
    return SellerBalance.objects.get(seller=seller, currency="EUR")


def creates(psp) -> list:
    return psp.calls_to("POST", "/payouts/create")


def put_method(client_for, seller, token: str):
    return client_for(seller).put(
        "/api/v1/marketplace/seller/payout-method",
        {"payout_type": "bank", "payout_token": token},
        format="json",
    )


def test_a_seller_whose_token_lapsed_is_paid_again_after_updating_the_method(
    psp, client_for, django_capture_on_commit_callbacks
):
    seller = CreatorFactory()
    assert put_method(client_for, seller, "tok_widget_old").status_code == 200
    released(seller, price=2000)
    psp.payout_mode = "token_expired"  # Hyperswitch: 422 IR_29, nothing created

    with django_capture_on_commit_callbacks(execute=True):
        assert run_payouts() == {"created": 1, "failed": 1}

    failed = Payout.objects.get(seller=seller)
    assert failed.status == Payout.Status.FAILED
    assert "Token is invalid or expired" in failed.failure_reason
    assert balance_of(seller).available == 1800  # the money is back
    method = client_for(seller).get("/api/v1/marketplace/seller/payout-method")
    assert method.status_code == 200
    assert method.json()["status"] == "needs_update"
    assert "payout_token" not in method.json()
    lapse_emails = [m for m in mail.outbox if "payout method" in m.subject.lower()]
    assert [m.to for m in lapse_emails] == [[seller.email]]

    # Later runs skip the seller: no call at all, and no second email.
    psp.payout_mode = "ok"
    with django_capture_on_commit_callbacks(execute=True):
        assert run_payouts() == {}
    assert len(creates(psp)) == 1
    assert len([m for m in mail.outbox if "payout method" in m.subject.lower()]) == 1

    # A new method from the widget: active again, and the next run pays with it.
    assert put_method(client_for, seller, "tok_widget_new").json()["status"] == "active"
    psp.payout_method_id = "pm_saved_0000000000000000000001"
    assert run_payouts() == {"created": 1, "pending": 1}
    paid = Payout.objects.get(seller=seller, status=Payout.Status.PENDING)
    assert creates(psp)[-1].body["payout_token"] == "tok_widget_new"
    assert paid.amount == 1800
    method = PayoutMethod.objects.get(seller=seller)
    assert method.payout_method_id == "pm_saved_0000000000000000000001"

    # Once the method is saved, later payouts name it instead of the lapsing token.
    assert signed_post_status(client_for, paid, "payout_success") == 200
    released(seller, price=3000)
    assert run_payouts() == {"created": 1, "pending": 1}
    last = creates(psp)[-1].body
    assert last["payout_method_id"] == "pm_saved_0000000000000000000001"
    assert "payout_token" not in last


def signed_post_status(client_for, payout: Payout, event: str, status: str = "") -> int:
    from rest_framework.test import APIClient

    body = payout_body(
        event,
        payout_id=str(payout.pk),
        amount=payout.amount,
        currency=payout.currency,
        **({"status": status} if status else {}),
    )
    return signed_post(APIClient(), body).status_code


@pytest.mark.parametrize(
    "provider_status, ours, method_status",
    [
        ("success", Payout.Status.PAID, "active"),
        ("failed", Payout.Status.FAILED, "active"),
        ("cancelled", Payout.Status.FAILED, "active"),
        ("expired", Payout.Status.FAILED, "active"),
        ("ineligible", Payout.Status.FAILED, "needs_update"),
        ("initiated", Payout.Status.PENDING, "active"),
        ("pending", Payout.Status.PENDING, "active"),
        ("requires_creation", Payout.Status.PENDING, "active"),
        ("requires_confirmation", Payout.Status.PENDING, "active"),
        ("requires_fulfillment", Payout.Status.PENDING, "active"),
        ("requires_vendor_account_creation", Payout.Status.PENDING, "active"),
        ("requires_payout_method_data", Payout.Status.PENDING, "needs_update"),
    ],
)
def test_every_payout_status_in_the_create_answer(psp, provider_status, ours, method_status):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    psp.payout_status = provider_status

    run_payouts()

    payout = Payout.objects.get(seller=seller)
    assert (payout.status, payout.provider_status) == (ours, provider_status)
    assert PayoutMethod.objects.get(seller=seller).status == method_status
    expected_available = 1800 if ours == Payout.Status.FAILED else 0
    assert balance_of(seller).available == expected_available


@pytest.mark.parametrize(
    "event, status, ours",
    [
        ("payout_success", "success", Payout.Status.PAID),
        ("payout_failed", "failed", Payout.Status.FAILED),
        ("payout_cancelled", "cancelled", Payout.Status.FAILED),
        ("payout_expired", "expired", Payout.Status.FAILED),
        ("payout_failed", "ineligible", Payout.Status.FAILED),
        ("payout_processing", "ineligible", Payout.Status.FAILED),
        ("payout_initiated", "initiated", Payout.Status.PENDING),
        ("payout_processing", "pending", Payout.Status.PENDING),
        ("payout_processing", "requires_fulfillment", Payout.Status.PENDING),
        ("payout_failed", "requires_payout_method_data", Payout.Status.PENDING),
    ],
)
def test_every_payout_status_in_a_webhook(psp, client_for, event, status, ours):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    payout = Payout.objects.get(seller=seller)

    assert signed_post_status(client_for, payout, event, status) == 200

    payout.refresh_from_db()
    assert payout.status == ours
    unusable = status in ("ineligible", "requires_payout_method_data")
    method = PayoutMethod.objects.get(seller=seller)
    assert method.status == ("needs_update" if unusable else "active")


def test_a_reversed_payout_after_success_returns_the_money(psp, client_for):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    payout = Payout.objects.get(seller=seller)
    assert signed_post_status(client_for, payout, "payout_success") == 200
    assert signed_post_status(client_for, payout, "payout_reversed", "reversed") == 200

    payout.refresh_from_db()
    assert payout.status == Payout.Status.REVERSED
    assert balance_of(seller).available == 1800


def test_reconciliation_reads_the_connectors_status_and_finance_sees_a_stuck_payout(psp, settings):
    from django.test import Client

    from tests.backoffice.test_admin_console import staff_client

    settings.PAYOUT_RECONCILE_AFTER = 0
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    psp.payout_status_on_get = "requires_payout_method_data"

    assert reconcile_payouts() == {"still_pending": 1}

    (read,) = psp.calls_to("GET", "/payouts/")
    assert read.force_sync is True
    payout = Payout.objects.get(seller=seller)
    assert (payout.status, payout.provider_status) == (
        Payout.Status.PENDING,
        "requires_payout_method_data",
    )
    assert PayoutMethod.objects.get(seller=seller).status == "needs_update"
    client, _ = staff_client("Finance")
    assert isinstance(client, Client)
    page = client.get("/admin/payments/payout/?stuck=yes").content.decode()
    assert str(payout.pk)[:8] in page and "requires_payout_method_data" in page


def test_the_payout_method_is_404_before_one_is_set_and_never_shows_the_token(client_for):
    seller = CreatorFactory()
    assert client_for(seller).get("/api/v1/marketplace/seller/payout-method").status_code == 404
    put_method(client_for, seller, "tok_secret_value")
    body = client_for(seller).get("/api/v1/marketplace/seller/payout-method").json()
    assert body["payout_type"] == "bank" and body["status"] == "active"
    assert "tok_secret_value" not in str(body)
    listener = UserFactory()
    assert client_for(listener).get("/api/v1/marketplace/seller/payout-method").status_code == 403
