"""Hyperswitch's full webhook bodies, as it really sends them, through POST /webhooks/hyperswitch.

The bodies come from ``tests/hyperswitch/webhook_bodies.py`` (each one validated against
Hyperswitch's published ``OutgoingWebhook`` schema). Where today's code does not do what the
contract says, the test states the contract and is marked ``xfail(strict=True)``: it flips to a
failure ("XPASS(strict)") the day the behaviour is fixed, and the mark must then go.
"""

import pytest

from marketplace.models import Order
from payments.models import Payout, Refund
from payments.payouts.services import run_payouts
from tests.factories import CreatorFactory
from tests.hyperswitch.webhook_bodies import (
    BODIES,
    payment_body,
    payout_body,
    refund_body,
    signed_post,
)
from tests.marketplace.factories import OrderFactory, completed_order, opened_refund
from tests.payments.payout_helpers import released, with_method


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(BODIES))
def test_every_full_body_for_unknown_objects_answers_200(api_client, name):
    response = signed_post(api_client, BODIES[name])

    assert response.status_code == 200, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(BODIES))
def test_a_replayed_full_body_answers_200_and_does_nothing(api_client, name):
    assert signed_post(api_client, BODIES[name]).status_code == 200
    assert signed_post(api_client, BODIES[name]).status_code == 200


@pytest.mark.django_db
def test_a_full_body_with_a_wrong_signature_is_401(api_client):
    import json

    raw = json.dumps(BODIES["refund_succeeded"]).encode()
    response = api_client.generic(
        "POST",
        "/api/v1/webhooks/hyperswitch",
        raw,
        content_type="application/json",
        HTTP_X_WEBHOOK_SIGNATURE_512="0" * 128,
    )
    assert response.status_code == 401


@pytest.fixture
def pending_refund(db):
    return opened_refund(completed_order(), provider_refund_id="ref_shapes_00000000000000001")


def test_full_refund_succeeded_body_settles_the_refund(api_client, pending_refund):
    body = refund_body(
        "refund_succeeded",
        refund_id=pending_refund.provider_refund_id,
        payment_id=pending_refund.order.hyperswitch_payment_id,
        amount=pending_refund.amount,
    )

    assert signed_post(api_client, body).status_code == 200

    pending_refund.refresh_from_db()
    assert pending_refund.status == Refund.Status.SUCCEEDED
    assert Order.objects.get(pk=pending_refund.order_id).status == Order.Status.REFUNDED


def test_full_refund_failed_body_fails_the_refund_and_reopens_the_order(api_client, pending_refund):
    body = refund_body(
        "refund_failed",
        refund_id=pending_refund.provider_refund_id,
        payment_id=pending_refund.order.hyperswitch_payment_id,
    )

    assert signed_post(api_client, body).status_code == 200

    pending_refund.refresh_from_db()
    assert pending_refund.status == Refund.Status.FAILED
    assert Order.objects.get(pk=pending_refund.order_id).status == Order.Status.COMPLETED


@pytest.mark.django_db
def test_full_payment_succeeded_body_completes_the_order(api_client):
    order = OrderFactory()

    body = payment_body("payment_succeeded", payment_id=order.hyperswitch_payment_id)
    assert signed_post(api_client, body).status_code == 200

    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", ["payment_failed", "payment_cancelled"])
def test_full_payment_failure_bodies_fail_a_pending_order(api_client, event_type):
    order = OrderFactory()

    assert (
        signed_post(
            api_client, payment_body(event_type, payment_id=order.hyperswitch_payment_id)
        ).status_code
        == 200
    )

    order.refresh_from_db()
    assert order.status == Order.Status.FAILED


@pytest.mark.django_db
def test_full_payment_expired_body_fails_a_pending_order(api_client):
    order = OrderFactory()

    body = payment_body("payment_expired", payment_id=order.hyperswitch_payment_id)
    assert signed_post(api_client, body).status_code == 200

    order.refresh_from_db()
    assert order.status == Order.Status.FAILED


@pytest.mark.django_db
def test_a_late_full_payment_failure_never_undoes_a_completed_order(api_client):
    order = completed_order()

    body = payment_body("payment_failed", payment_id=order.hyperswitch_payment_id)
    assert signed_post(api_client, body).status_code == 200

    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


@pytest.fixture
def pending_payout(psp, db):
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    run_payouts()
    return Payout.objects.get(seller=seller)


def _payout_body(payout, event_type, **kw):
    return payout_body(
        event_type,
        payout_id=str(payout.pk),
        amount=payout.amount,
        currency=payout.currency,
        customer_id=str(payout.seller_id),
        **kw,
    )


def test_full_payout_success_body_marks_the_payout_paid(api_client, pending_payout):
    assert (
        signed_post(api_client, _payout_body(pending_payout, "payout_success")).status_code == 200
    )

    pending_payout.refresh_from_db()
    assert pending_payout.status == Payout.Status.PAID


@pytest.mark.parametrize("event_type", ["payout_failed", "payout_cancelled", "payout_expired"])
def test_full_payout_failure_bodies_fail_the_payout(api_client, pending_payout, event_type):
    assert signed_post(api_client, _payout_body(pending_payout, event_type)).status_code == 200

    pending_payout.refresh_from_db()
    assert pending_payout.status == Payout.Status.FAILED


@pytest.mark.parametrize("event_type", ["payout_initiated", "payout_processing"])
def test_full_in_flight_payout_bodies_change_nothing(api_client, pending_payout, event_type):
    assert signed_post(api_client, _payout_body(pending_payout, event_type)).status_code == 200

    pending_payout.refresh_from_db()
    assert pending_payout.status == Payout.Status.PENDING


def test_a_payout_reported_ineligible_fails(api_client, pending_payout):
    body = _payout_body(pending_payout, "payout_failed", status="ineligible")
    # Hyperswitch can also report it on a non-terminal event type (a re-read, an update).
    body["event_type"] = "payout_processing"
    assert signed_post(api_client, body).status_code == 200

    pending_payout.refresh_from_db()
    assert pending_payout.status == Payout.Status.FAILED


def test_a_payout_requiring_method_data_stays_pending(api_client, pending_payout):
    body = _payout_body(pending_payout, "payout_processing", status="requires_payout_method_data")
    assert signed_post(api_client, body).status_code == 200

    pending_payout.refresh_from_db()
    assert pending_payout.status == Payout.Status.PENDING


def test_a_payout_requiring_method_data_marks_the_method_needs_update(api_client, pending_payout):
    body = _payout_body(pending_payout, "payout_failed", status="requires_payout_method_data")
    assert signed_post(api_client, body).status_code == 200

    pending_payout.refresh_from_db()
    assert pending_payout.status == Payout.Status.PENDING
    method = pending_payout.seller.payout_method
    assert method.status == "needs_update"
