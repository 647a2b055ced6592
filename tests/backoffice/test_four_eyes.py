"""Four eyes: large or out-of-window staff refunds wait for a second Finance member."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditLog
from marketplace.models import Order
from payments.models import Refund
from payments.refunds.services import open_refund
from tests.backoffice.test_admin_console import staff_client
from tests.marketplace.factories import ProductFactory, completed_order

pytestmark = pytest.mark.django_db

ORDERS = "/admin/marketplace/order/"
REFUNDS = "/admin/payments/refund/"


def large_order() -> Order:
    return completed_order(products=[ProductFactory(price=60_000)])


def staff_refund(client, order, **extra):
    data = {"action": "refund_orders", "_selected_action": [str(order.pk)], "confirm": "yes"}
    return client.post(ORDERS, {**data, "reason": "Bank error", **extra}, follow=True)


def decide(client, refund, action, **extra):
    data = {"action": action, "_selected_action": [str(refund.pk)], **extra}
    return client.post(REFUNDS, data, follow=True)


def test_a_staff_refund_above_the_threshold_waits_without_calling_the_provider(psp):
    finance, requester = staff_client("Finance")
    order = large_order()

    page = staff_refund(finance, order)

    assert page.status_code == 200
    assert "awaiting approval" in page.content.decode()
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.AWAITING_APPROVAL
    assert refund.provider_refund_id is None
    assert psp.calls_to("POST", "/refunds") == []
    order.refresh_from_db()
    assert order.status == Order.Status.REFUND_PENDING  # the order's one open refund
    entry = AuditLog.objects.get(action="refund.requested", target_id=str(refund.pk))
    assert entry.details["awaiting_approval"] is True and entry.actor == requester


def test_a_refund_under_the_threshold_goes_straight_to_the_provider(psp, settings):
    settings.REFUND_APPROVAL_THRESHOLD = 60_000
    finance, _ = staff_client("Finance")
    order = large_order()
    page = staff_refund(finance, order)
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.PENDING
    assert refund.provider_refund_id == str(refund.pk)
    assert "waiting for the provider" in page.content.decode()


def test_a_window_override_waits_whatever_the_amount(psp):
    order = completed_order()
    Order.objects.filter(pk=order.pk).update(refund_deadline=timezone.now() - timedelta(days=1))
    finance, _ = staff_client("Finance")
    staff_refund(finance, order, override_window_reason="Confirmed by phone")
    refund = Refund.objects.get(order=order)
    assert refund.amount < 50_000
    assert refund.status == Refund.Status.AWAITING_APPROVAL


def test_the_requester_cannot_approve_its_own_refund_and_the_refusal_is_audited(psp):
    finance, requester = staff_client("Finance")
    order = large_order()
    staff_refund(finance, order)
    refund = Refund.objects.get(order=order)

    page = decide(finance, refund, "approve_refunds", confirm="yes")

    assert page.status_code == 200
    assert "second Finance member must approve" in page.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.AWAITING_APPROVAL
    assert psp.calls_to("POST", "/refunds") == []
    refusal = AuditLog.objects.get(action="refund.decision_refused", target_id=str(refund.pk))
    assert refusal.actor == requester and refusal.details["decision"] == "approve"
    assert not AuditLog.objects.filter(action="refund.approved").exists()

    rejected = decide(finance, refund, "reject_refunds", confirm="yes", reason="mine")
    assert rejected.status_code == 200
    refund.refresh_from_db()
    assert refund.status == Refund.Status.AWAITING_APPROVAL


def test_a_second_finance_member_approves_and_the_provider_is_called(psp):
    first, _ = staff_client("Finance")
    second, approver = staff_client("Finance")
    order = large_order()
    staff_refund(first, order)
    refund = Refund.objects.get(order=order)

    confirmation = decide(second, refund, "approve_refunds")
    assert confirmation.status_code == 200 and b"Yes, approve" in confirmation.content
    assert "€600.00" in confirmation.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.AWAITING_APPROVAL  # nothing happens on one click
    assert psp.calls_to("POST", "/refunds") == []

    page = decide(second, refund, "approve_refunds", confirm="yes")

    assert page.status_code == 200
    assert "approved (€600.00), now pending" in page.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING
    assert refund.provider_refund_id == str(refund.pk)
    [call] = psp.calls_to("POST", "/refunds")
    assert call.body["refund_id"] == str(refund.pk)
    entry = AuditLog.objects.get(action="refund.approved", target_id=str(refund.pk))
    assert entry.actor == approver


def test_a_rejected_refund_restores_the_order_and_frees_its_items(psp):
    first, _ = staff_client("Finance")
    second, rejecter = staff_client("Finance")
    order = large_order()
    staff_refund(first, order)
    refund = Refund.objects.get(order=order)

    confirmation = decide(second, refund, "reject_refunds")
    assert confirmation.status_code == 200 and b"Yes, reject" in confirmation.content
    page = decide(second, refund, "reject_refunds", confirm="yes", reason="Not a bank error")

    assert page.status_code == 200
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REJECTED
    assert "Not a bank error" in refund.error_message
    assert not refund.refund_items.filter(active=True).exists()
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert psp.calls_to("POST", "/refunds") == []
    entry = AuditLog.objects.get(action="refund.rejected", target_id=str(refund.pk))
    assert entry.actor == rejecter and entry.details["reason"] == "Not a bank error"
    # The items may be refunded again.
    again = open_refund(order_id=order.pk, requested_by=rejecter, reason="again", as_staff=True)
    assert again.status == Refund.Status.AWAITING_APPROVAL


def test_support_has_no_approval_actions(psp):
    order = large_order()
    Refund.objects.create(order=order, amount=1, currency="EUR")
    support, _ = staff_client("Support")
    finance, _ = staff_client("Finance")
    assert "approve_refunds" not in support.get(REFUNDS).content.decode()
    assert "approve_refunds" in finance.get(REFUNDS).content.decode()


def test_api_refunds_never_wait(psp, client_for):
    order = large_order()
    response = client_for(order.buyer).post(
        f"/api/v1/marketplace/orders/{order.pk}/refund", {"reason": "changed my mind"}
    )
    assert response.status_code == 200, response.content
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.PENDING
    assert refund.provider_refund_id == str(refund.pk)


def test_a_waiting_refund_counts_as_the_orders_one_open_refund(psp):
    order = large_order()
    Refund.objects.create(
        order=order, amount=1, currency="EUR", status=Refund.Status.AWAITING_APPROVAL
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(order=order, amount=1, currency="EUR")


def test_a_negative_threshold_is_refused_at_start_up():
    from django.conf import settings

    from veza.config import problems

    values = {k: getattr(settings, k) for k in dir(settings) if k.isupper()}
    values["REFUND_APPROVAL_THRESHOLD"] = -1
    assert any("REFUND_APPROVAL_THRESHOLD" in p for p in problems(values))


def test_the_refund_service_checks_staff_permissions_whoever_calls_it(psp):
    """A second caller of the service (a shell, a task) cannot skip what the admin checks."""
    from payments import errors
    from payments.refunds.approvals import approve_refund
    from tests.factories import UserFactory

    order = large_order()
    with pytest.raises(errors.RefundForbidden):
        open_refund(order_id=order.pk, requested_by=UserFactory(), reason="x", as_staff=True)
    _, support = staff_client("Support")
    order.refund_deadline = timezone.now() - timedelta(days=1)
    order.save(update_fields=["refund_deadline"])
    with pytest.raises(errors.WindowOverrideForbidden):
        open_refund(
            order_id=order.pk,
            requested_by=support,
            reason="late",
            as_staff=True,
            override_window_reason="goodwill",
        )
    assert not Refund.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    _, finance = staff_client("Finance")
    with pytest.raises(errors.RefundNotFound) as missing:
        approve_refund(refund_id=order.pk, approved_by=finance)
    assert missing.value.status_code == 404
    refusal = AuditLog.objects.get(action="refund.decision_refused")
    assert refusal.actor == finance
