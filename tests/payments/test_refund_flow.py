"""The refund flow: open → provider (outside the transaction) → webhook is the authority."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditLog
from marketplace.models import License, Order
from payments.models import LedgerEntry, Refund, SellerBalance, SellerTransfer
from tests.factories import AdminFactory, UserFactory
from tests.marketplace.factories import OrderFactory, ProductFactory, completed_order

pytestmark = pytest.mark.django_db


def refund_url(order) -> str:
    return f"/api/v1/marketplace/orders/{order.id}/refund"


def ask_refund(client, order, reason="changed my mind"):
    return client.post(refund_url(order), {"reason": reason})


def test_opening_a_refund_leaves_it_pending_and_sends_our_id_to_the_provider(psp, client_for):
    order = completed_order()
    response = ask_refund(client_for(order.buyer), order)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["refund"]["status"] == "pending"
    assert body["message"]
    refund = Refund.objects.get(pk=body["refund"]["id"])
    assert refund.status == Refund.Status.PENDING
    assert refund.provider_refund_id == str(refund.id)
    assert (refund.amount, refund.currency) == (order.total_amount, "EUR")
    assert refund.requested_by == order.buyer
    order.refresh_from_db()
    assert order.status == Order.Status.REFUND_PENDING
    assert License.objects.active().filter(order=order).count() == 1  # untouched
    [call] = psp.calls_to("POST", "/refunds")
    assert call.headers["api-key"] == psp.api_key
    assert call.body == {
        "payment_id": order.hyperswitch_payment_id,
        "refund_id": str(refund.id),
        "amount": order.total_amount,
        "reason": "changed my mind",
        "metadata": {"order_id": str(order.id)},
    }
    assert AuditLog.objects.filter(action="refund.requested", target_id=str(refund.id)).exists()


def test_provider_answering_succeeded_synchronously_stays_pending(psp, client_for):
    psp.refund_mode = "succeeded"
    order = completed_order()
    response = ask_refund(client_for(order.buyer), order)
    assert response.status_code == 200
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.PENDING
    assert refund.succeeded_at is None
    order.refresh_from_db()
    assert order.status == Order.Status.REFUND_PENDING
    assert SellerBalance.objects.get(seller=order.items.get().seller).pending == 900


def test_provider_refusal_fails_the_refund_and_restores_the_order(psp, client_for):
    psp.refund_mode = "refuse"
    order = completed_order()
    response = ask_refund(client_for(order.buyer), order)
    assert response.status_code == 502
    assert response.json()["code"] == "psp_error"
    assert "exceeds" in response.json()["detail"]
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.FAILED
    assert refund.failed_at is not None
    assert "exceeds" in refund.error_message
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_provider_500_then_refund_not_found_is_a_definite_failure(psp, client_for):
    psp.refund_mode = "error"
    order = completed_order()
    response = ask_refund(client_for(order.buyer), order)
    assert response.status_code == 502
    assert Refund.objects.get(order=order).status == Refund.Status.FAILED
    assert len(psp.calls_to("GET", "/refunds/")) == 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_provider_timeout_after_creating_the_refund_keeps_it_pending_with_its_id(psp, client_for):
    psp.refund_mode = "timeout_after_create"
    order = completed_order()
    response = ask_refund(client_for(order.buyer), order)
    assert response.status_code == 200
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.PENDING
    assert refund.provider_refund_id == str(refund.id)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUND_PENDING


def test_provider_unreachable_for_both_calls_answers_202_then_reconciliation_completes(
    psp, client_for, settings
):
    from payments.refunds.reconcile import reconcile_refunds

    psp.refund_mode = "timeout"
    psp.get_mode = "timeout"
    order = completed_order()
    response = ask_refund(client_for(order.buyer), order)
    assert response.status_code == 202
    assert response.json()["refund"]["status"] == "pending"
    refund = Refund.objects.get(order=order)
    assert refund.provider_refund_id is None
    order.refresh_from_db()
    assert order.status == Order.Status.REFUND_PENDING
    # a second request must not open a second refund while the first may exist
    again = ask_refund(client_for(order.buyer), order)
    assert again.json()["code"] == "refund_already_requested"

    psp.refund_mode = "succeeded"
    psp.get_mode = "ok"
    settings.REFUND_RECONCILE_AFTER = 0
    assert reconcile_refunds() == {"succeeded": 1}
    refund.refresh_from_db()
    order.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.provider_refund_id == str(refund.id)
    assert order.status == Order.Status.REFUNDED
    # re-submitted with the same refund id
    assert {c.body["refund_id"] for c in psp.calls_to("POST", "/refunds")} == {str(refund.id)}


def test_double_request_is_refund_already_requested(psp, client_for):
    order = completed_order()
    client = client_for(order.buyer)
    assert ask_refund(client, order).status_code == 200
    second = ask_refund(client, order)
    assert second.status_code == 400
    assert second.json()["code"] == "refund_already_requested"
    assert "already in progress" in second.json()["detail"]
    assert Refund.objects.filter(order=order).count() == 1
    assert len(psp.calls_to("POST", "/refunds")) == 1


def test_pending_order_is_not_refundable(psp, client_for):
    order = OrderFactory()
    response = ask_refund(client_for(order.buyer), order)
    assert response.status_code == 400
    assert response.json()["code"] == "order_not_refundable"
    assert not Refund.objects.exists()
    assert psp.calls == []


def test_order_without_payment_id_is_not_refundable(psp, client_for):
    order = completed_order()
    Order.objects.filter(pk=order.pk).update(hyperswitch_payment_id=None)
    response = ask_refund(client_for(order.buyer), order)
    assert response.status_code == 400
    assert response.json()["code"] == "order_not_refundable"
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_stranger_is_forbidden(psp, client_for):
    order = completed_order()
    response = ask_refund(client_for(UserFactory()), order)
    assert response.status_code == 403
    assert not Refund.objects.exists()


def test_unknown_order_is_404(psp, client_for, user):
    response = client_for(user).post(
        "/api/v1/marketplace/orders/00000000-0000-4000-8000-000000000000/refund", {}
    )
    assert response.status_code == 404


def test_anonymous_is_401(psp, api_client):
    order = completed_order()
    assert ask_refund(api_client, order).status_code == 401


def test_seller_and_admin_can_refund(psp, client_for):
    order = completed_order()
    seller = order.items.get().seller
    assert ask_refund(client_for(seller), order).status_code == 200
    other = completed_order()
    assert ask_refund(client_for(AdminFactory()), other).status_code == 200
    assert Refund.objects.filter(order=other, requested_by__role="admin").exists()


def test_expired_window_is_refused(psp, client_for):
    order = completed_order()
    Order.objects.filter(pk=order.pk).update(refund_deadline=timezone.now() - timedelta(seconds=1))
    response = ask_refund(client_for(order.buyer), order)
    assert response.status_code == 400
    assert response.json()["code"] == "refund_window_expired"
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_window_falls_back_to_created_at_when_there_is_no_deadline(psp, client_for):
    order = completed_order()
    Order.objects.filter(pk=order.pk).update(
        refund_deadline=None, created_at=timezone.now() - timedelta(days=15)
    )
    response = ask_refund(client_for(order.buyer), order)
    assert response.json()["code"] == "refund_window_expired"
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=13))
    assert ask_refund(client_for(order.buyer), order).status_code == 200


def test_reason_too_long_is_a_400_and_changes_nothing(psp, client_for):
    order = completed_order()
    response = ask_refund(client_for(order.buyer), order, reason="x" * 1001)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_refund_detail_is_visible_to_the_parties_only(psp, client_for):
    order = completed_order()
    refund_id = ask_refund(client_for(order.buyer), order).json()["refund"]["id"]
    url = f"/api/v1/marketplace/refunds/{refund_id}"
    body = client_for(order.buyer).get(url).json()
    assert body["status"] == "pending"
    assert body["order_id"] == str(order.id)
    assert set(body) == {
        "id",
        "order_id",
        "amount",
        "currency",
        "reason",
        "status",
        "items",
        "error_message",
        "created_at",
        "succeeded_at",
        "failed_at",
    }
    assert client_for(order.items.get().seller).get(url).status_code == 200
    assert client_for(UserFactory()).get(url).status_code == 404


def test_refund_emails_go_to_buyer_and_seller(psp, client_for, django_capture_on_commit_callbacks):
    order = completed_order()
    with django_capture_on_commit_callbacks(execute=True):
        ask_refund(client_for(order.buyer), order)
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([order.buyer.email, order.items.get().seller.email])
    assert all("requested" in m.subject.lower() for m in mail.outbox)


def test_two_sellers_each_debited_their_share_on_success(psp, client_for, post_webhook):
    products = [ProductFactory(price=1000), ProductFactory(price=2550)]
    order = completed_order(products=products)
    ask_refund(client_for(order.buyer), order)
    refund = Refund.objects.get(order=order)
    response = post_webhook({"event_type": "refund_succeeded", "refund_id": str(refund.id)})
    assert response.status_code == 200
    for product, share in zip(products, (900, 2295), strict=True):
        assert SellerBalance.objects.get(seller=product.seller).pending == 0
        debit = LedgerEntry.objects.get(seller=product.seller, kind="refund_debit")
        assert (debit.requested_amount, debit.applied_amount) == (-share, -share)
    assert set(SellerTransfer.objects.filter(order=order).values_list("status", flat=True)) == {
        "reversed"
    }
