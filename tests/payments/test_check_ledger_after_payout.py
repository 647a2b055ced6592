"""``manage.py check_ledger`` after money left: a refund or a lost dispute of an order whose
share was already paid out turns the paid transfer ``reversed`` (the money came back as
debt), and that is a consistent state, not a transfer out of step with its payout."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from payments.models import Payout, SellerBalance, SellerTransfer
from payments.payouts.checks import payout_differences
from payments.payouts.services import run_payouts
from payments.refunds.approvals import approve_refund
from payments.refunds.services import open_refund
from tests.factories import AdminFactory, CreatorFactory
from tests.payments.payout_helpers import released, sold, with_method
from tests.payments.test_disputes import dispute_event
from tests.payments.test_payouts import payout_event

pytestmark = pytest.mark.django_db


def check_ledger() -> str:
    out = StringIO()
    call_command("check_ledger", stdout=out, stderr=out)
    return out.getvalue()


def paid_out(seller, price=2000):
    """A released sale of ``seller`` paid out through the payout run and its webhook."""
    order = released(seller, price=price)
    run_payouts()
    return order, Payout.objects.get(seller=seller, status=Payout.Status.PENDING)


def late_refund(order, post_webhook, item_ids=None):
    """A staff refund after the window (four eyes), settled by the provider's webhook."""
    refund = open_refund(
        order_id=order.pk,
        requested_by=AdminFactory(is_staff=True, is_superuser=True),
        reason="goodwill",
        as_staff=True,
        item_ids=item_ids,
        override_window_reason="late complaint",
    )
    approve_refund(refund_id=refund.pk, approved_by=AdminFactory(is_staff=True, is_superuser=True))
    refund.refresh_from_db()
    assert refund.provider_refund_id
    response = post_webhook(
        {"event_type": "refund_succeeded", "refund_id": refund.provider_refund_id}
    )
    assert response.status_code == 200, response.content
    return refund


def test_a_refund_after_the_payout_was_paid_leaves_check_ledger_passing(psp, post_webhook):
    seller = CreatorFactory()
    with_method(seller)
    order, payout = paid_out(seller)
    assert post_webhook(payout_event(payout, "payout_success")).status_code == 200

    late_refund(order, post_webhook)

    balance = SellerBalance.objects.get(seller=seller)
    assert (balance.available, balance.debt) == (0, 1800)
    transfer = SellerTransfer.objects.get(order=order)
    assert (transfer.status, transfer.amount, transfer.payout) == ("reversed", 0, payout)
    assert payout_differences() == []
    assert "Ledger consistent" in check_ledger()


def test_a_lost_dispute_after_the_payout_was_paid_leaves_check_ledger_passing(
    psp, post_webhook, settings
):
    settings.DISPUTE_FEE = 150
    seller = CreatorFactory()
    with_method(seller)
    order, payout = paid_out(seller)
    assert post_webhook(payout_event(payout, "payout_success")).status_code == 200

    assert post_webhook(dispute_event(order, "opened")).status_code == 200
    assert post_webhook(dispute_event(order, "lost")).status_code == 200

    assert SellerTransfer.objects.get(order=order).status == "reversed"
    assert payout_differences() == []
    check_ledger()


def test_debt_from_a_late_refund_repaid_by_the_next_sale_leaves_check_ledger_passing(
    psp, post_webhook
):
    seller = CreatorFactory()
    with_method(seller)
    order, payout = paid_out(seller)
    post_webhook(payout_event(payout, "payout_success"))
    late_refund(order, post_webhook)

    sold(seller, price=3000)  # earns 2700: 1800 repays the debt

    assert SellerBalance.objects.get(seller=seller).debt == 0
    check_ledger()


@pytest.mark.parametrize(
    "tampered",
    [
        {"status": "released"},  # a released share in a paid payout
        {"status": "pending"},
        {"status": "paid", "payout": None},  # paid, but by no payout
        {"status": "reversed", "amount": 5},  # reversed, yet something stands
        {"status": "released", "payout": None, "amount": 1800},  # fine: let go, unpaid
    ],
    ids=["released-in-paid", "pending-in-paid", "paid-without-payout", "reversed-standing", "ok"],
)
def test_check_ledger_refuses_a_transfer_out_of_step_with_its_payout(psp, post_webhook, tampered):
    seller = CreatorFactory()
    with_method(seller)
    order, payout = paid_out(seller)
    post_webhook(payout_event(payout, "payout_success"))
    SellerTransfer.objects.filter(order=order).update(**tampered)

    problems = payout_differences()

    if tampered.get("payout", "kept") is None and tampered["status"] == "released":
        assert problems == []
        return
    assert [p["status"] for p in problems] == [tampered["status"]]
    with pytest.raises(CommandError):
        check_ledger()


def test_a_transfer_paid_by_a_payout_still_in_flight_is_out_of_step(psp):
    seller = CreatorFactory()
    with_method(seller)
    order, payout = paid_out(seller)
    SellerTransfer.objects.filter(order=order).update(status="paid")

    assert [(p["status"], p["payout_status"]) for p in payout_differences()] == [
        ("paid", "pending")
    ]


def test_a_share_refunded_while_its_payout_is_in_flight_stays_reversed(psp, post_webhook):
    """The payout's success marks its transfers paid — not a share already taken back."""
    from payments.models import Payout, Refund, SellerTransfer
    from payments.payouts.services import run_payouts
    from payments.refunds.approvals import approve_refund
    from payments.refunds.services import open_refund
    from payments.refunds.settle import apply_refund_status
    from tests.factories import AdminFactory, CreatorFactory
    from tests.payments.payout_helpers import released, with_method

    seller = CreatorFactory()
    with_method(seller)
    order = released(seller, price=2000)
    run_payouts()
    payout = Payout.objects.get(seller=seller)
    staff = AdminFactory(is_staff=True, is_superuser=True)
    refund = open_refund(
        order_id=order.pk,
        requested_by=staff,
        reason="late",
        as_staff=True,
        override_window_reason="goodwill",
    )
    approve_refund(refund_id=refund.pk, approved_by=AdminFactory(is_staff=True, is_superuser=True))
    apply_refund_status(refund_id=refund.pk, status=Refund.Status.SUCCEEDED)
    assert SellerTransfer.objects.get(order=order).status == SellerTransfer.Status.REVERSED

    response = post_webhook(
        {"event_type": "payout_success", "payout_id": str(payout.pk), "status": "success"}
    )

    assert response.status_code == 200
    transfer = SellerTransfer.objects.get(order=order)
    assert (transfer.status, transfer.amount) == (SellerTransfer.Status.REVERSED, 0)
    call_command("check_ledger")
