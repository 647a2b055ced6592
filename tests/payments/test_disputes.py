"""Chargebacks through the signed webhook: hold, release, debit, fee, order of events."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from marketplace.models import License, Order
from payments.models import Dispute, LedgerEntry, SellerBalance, SellerTransfer, WebhookEvent
from tests.factories import CreatorFactory, UserFactory
from tests.marketplace.factories import ProductFactory, completed_order

pytestmark = pytest.mark.django_db


def dispute_event(order, event: str, dispute_id="dp_1", amount=None, event_id=None):
    return {
        "merchant_id": "merchant_veza",
        "event_id": event_id or f"evt_{dispute_id}_{event}",
        "event_type": f"dispute_{event}",
        "content": {
            "type": "dispute_details",
            "object": {
                "dispute_id": dispute_id,
                "payment_id": order.hyperswitch_payment_id,
                "amount": str(order.total_amount if amount is None else amount),
                "currency": "EUR",
                "dispute_stage": "dispute",
                "dispute_status": f"dispute_{event}",
                "connector_reason": "fraudulent",
                "challenge_required_by": "2026-12-20T10:00:00Z",
                "created_at": "2026-12-01T10:00:00Z",
            },
        },
    }


def amounts(seller):
    b = SellerBalance.objects.get(seller=seller)
    return {"pending": b.pending, "available": b.available, "held": b.held, "debt": b.debt}


@pytest.fixture
def paid():
    seller = CreatorFactory()
    return completed_order(products=[ProductFactory(seller=seller, price=1000)]), seller


def test_an_opened_dispute_holds_the_money_suspends_licences_and_notifies(
    paid, post_webhook, client_for, django_capture_on_commit_callbacks
):
    order, seller = paid
    from django.contrib.auth.models import Group

    finance = UserFactory(is_staff=True)
    finance.groups.add(Group.objects.get(name="Finance"))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(dispute_event(order, "opened"))

    assert response.json() == {"status": "processed"}
    order.refresh_from_db()
    assert order.status == Order.Status.DISPUTED
    assert not License.objects.active().filter(order=order).exists()
    assert amounts(seller) == {"pending": 0, "available": 0, "held": 900, "debt": 0}
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.amount, dispute.stage) == ("opened", 1000, "dispute")
    assert dispute.evidence_due_at.isoformat().startswith("2026-12-20T10:00")
    assert {m.to[0] for m in mail.outbox} == {seller.email, finance.email}
    body = client_for(order.buyer).get(f"/api/v1/marketplace/disputes/{dispute.pk}").json()
    assert (body["order_id"], body["status"], body["amount"]) == (str(order.pk), "opened", 1000)
    assert (
        client_for(UserFactory()).get(f"/api/v1/marketplace/disputes/{dispute.pk}").status_code
        == 404
    )
    order_json = client_for(order.buyer).get(f"/api/v1/marketplace/orders/{order.pk}").json()
    assert order_json["disputes"][0]["id"] == str(dispute.pk)
    download = client_for(order.buyer).get(
        f"/api/v1/marketplace/download/{order.items.get().product_id}"
    )
    assert download.status_code == 403


def test_a_refund_is_refused_while_disputed(paid, post_webhook, client_for, psp):
    order, _ = paid
    post_webhook(dispute_event(order, "opened"))
    response = client_for(order.buyer).post(
        f"/api/v1/marketplace/orders/{order.pk}/refund", {"reason": "x"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "order_disputed")
    assert not order.refunds.exists()


def test_won_puts_everything_back_to_the_cent(paid, post_webhook):
    order, seller = paid
    before = amounts(seller)
    post_webhook(dispute_event(order, "opened"))
    post_webhook(dispute_event(order, "challenged"))
    assert Dispute.objects.get().status == "challenged"
    post_webhook(dispute_event(order, "won"))

    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert License.objects.active().filter(order=order).count() == 1
    assert amounts(seller) == before
    dispute = Dispute.objects.get()
    assert dispute.status == "won" and dispute.closed_at is not None
    # terminal: a late "lost" changes nothing
    response = post_webhook(dispute_event(order, "lost"))
    assert response.json() == {"status": "duplicate"}
    assert amounts(seller) == before
    call_command("check_ledger")


def test_lost_revokes_debits_and_charges_the_fee(paid, post_webhook, settings):
    settings.DISPUTE_FEE = 1500
    order, seller = paid
    post_webhook(dispute_event(order, "opened"))
    post_webhook(dispute_event(order, "lost"))

    order.refresh_from_db()
    assert order.status == Order.Status.CHARGED_BACK
    assert License.objects.filter(order=order, revoked_at__isnull=False).count() == 1
    # 900 held is gone; the 1500 fee found nothing, so it is debt
    assert amounts(seller) == {"pending": 0, "available": 0, "held": 0, "debt": 1500}
    debit = LedgerEntry.objects.get(kind=LedgerEntry.Kind.DISPUTE_DEBIT)
    assert (debit.held_delta, debit.requested_amount) == (-900, -2400)
    assert SellerTransfer.objects.get(order=order).status == SellerTransfer.Status.REVERSED
    # the next sale repays the debt first
    completed_order(products=[ProductFactory(seller=seller, price=2000)])
    assert amounts(seller) == {"pending": 300, "available": 0, "held": 0, "debt": 0}
    call_command("check_ledger")


def test_lost_before_opened_applies_both(paid, post_webhook):
    order, seller = paid
    response = post_webhook(dispute_event(order, "lost"))
    assert response.json() == {"status": "processed"}
    order.refresh_from_db()
    assert order.status == Order.Status.CHARGED_BACK
    assert amounts(seller) == {"pending": 0, "available": 0, "held": 0, "debt": 0}
    kinds = list(LedgerEntry.objects.filter(dispute__isnull=False).values_list("kind", flat=True))
    assert sorted(kinds) == ["dispute_debit", "dispute_hold"]
    assert post_webhook(dispute_event(order, "opened")).json() == {"status": "duplicate"}


def test_the_same_event_twice_moves_money_once(paid, post_webhook):
    order, seller = paid
    first = post_webhook(dispute_event(order, "opened"))
    again = post_webhook(dispute_event(order, "opened"))  # same event_id
    other_delivery = post_webhook(dispute_event(order, "opened", event_id="evt_other"))
    assert [r.json()["status"] for r in (first, again, other_delivery)] == [
        "processed",
        "duplicate",
        "duplicate",
    ]
    assert Dispute.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.DISPUTE_HOLD).count() == 1
    assert amounts(seller)["held"] == 900


def test_a_dispute_after_the_money_left_records_debt_and_loses_nothing(paid, post_webhook):
    from tests.payments.ledger_helpers import post_entry

    order, seller = paid
    # the seller's 900 was released and paid out
    post_entry(seller=seller, currency="EUR", kind=LedgerEntry.Kind.ADJUSTMENT, amount=-900)
    post_webhook(dispute_event(order, "opened"))
    assert amounts(seller) == {"pending": 0, "available": 0, "held": 0, "debt": 900}
    post_webhook(dispute_event(order, "won"))
    assert amounts(seller) == {"pending": 0, "available": 0, "held": 0, "debt": 0}
    call_command("check_ledger")


def test_a_dispute_for_an_unknown_payment_is_stored_as_ignored(post_webhook, paid):
    order, _ = paid
    event = dispute_event(order, "opened")
    event["content"]["object"]["payment_id"] = "pay_nobody"
    response = post_webhook(event)
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert not Dispute.objects.exists()
    stored = WebhookEvent.objects.get(event_type="dispute_opened")
    assert (stored.kind, stored.outcome) == ("dispute", "ignored")


def test_a_partial_dispute_holds_a_pro_rata_share(post_webhook):
    seller_a, seller_b = CreatorFactory(), CreatorFactory()
    order = completed_order(
        products=[
            ProductFactory(seller=seller_a, price=1000),
            ProductFactory(seller=seller_b, price=3000),
        ]
    )
    post_webhook(dispute_event(order, "opened", amount=2000))
    assert amounts(seller_a)["held"] == 450
    assert amounts(seller_b)["held"] == 1350
    post_webhook(dispute_event(order, "cancelled"))
    assert amounts(seller_a) == {"pending": 900, "available": 0, "held": 0, "debt": 0}
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_sandbox_command_runs_the_lifecycle(paid, settings, django_capture_on_commit_callbacks):
    settings.HYPERSWITCH_BASE_URL = ""
    order, seller = paid
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sandbox_dispute", str(order.pk), "--outcome", "lost")
    order.refresh_from_db()
    assert order.status == Order.Status.CHARGED_BACK
    assert Dispute.objects.get(order=order).status == "lost"
    assert Dispute.objects.get(order=order).closed_at <= timezone.now()


def test_a_dispute_of_an_order_with_vat_holds_only_the_sellers_net_shares(
    psp, client_for, post_webhook
):
    """The disputed amount includes the VAT, the sellers' holds do not: each is its share of
    the net, pro rata of the standing amount (the ratio VAT included is the same)."""
    seller_a, seller_b = CreatorFactory(), CreatorFactory()
    a = ProductFactory(seller=seller_a, price=1999)
    b = ProductFactory(seller=seller_b, price=1000)
    buyer = UserFactory()
    response = client_for(buyer).post(
        "/api/v1/marketplace/orders",
        {"items": [{"product_id": str(a.id)}, {"product_id": str(b.id)}], "billing_country": "DE"},
        format="json",
    )
    order = Order.objects.get(pk=response.json()["order"]["id"])
    assert (order.net_amount, order.vat_amount, order.total_amount) == (2999, 570, 3569)
    post_webhook({"event_type": "payment_succeeded", "payment_id": order.hyperswitch_payment_id})

    post_webhook(dispute_event(order, "opened"))

    dispute = Dispute.objects.get()
    assert dispute.amount == 3569  # what the bank takes back: VAT included
    assert amounts(seller_a) == {"pending": 0, "available": 0, "held": 1800, "debt": 0}
    assert amounts(seller_b) == {"pending": 0, "available": 0, "held": 900, "debt": 0}

    post_webhook(dispute_event(order, "lost"))
    assert amounts(seller_a) == {"pending": 0, "available": 0, "held": 0, "debt": 0}
    assert amounts(seller_b) == {"pending": 0, "available": 0, "held": 0, "debt": 0}
    call_command("check_ledger")


def test_a_partial_dispute_with_vat_holds_the_net_shares_pro_rata(psp, client_for, post_webhook):
    seller = CreatorFactory()
    buyer = UserFactory(country="DE")
    product = ProductFactory(seller=seller, price=1000)
    response = client_for(buyer).post(
        "/api/v1/marketplace/orders", {"items": [{"product_id": str(product.id)}]}, format="json"
    )
    order = Order.objects.get(pk=response.json()["order"]["id"])
    assert order.total_amount == 1190
    post_webhook({"event_type": "payment_succeeded", "payment_id": order.hyperswitch_payment_id})

    post_webhook(dispute_event(order, "opened", amount=595))  # half of what was paid

    assert amounts(seller)["held"] == 450  # half of the seller's net share of 900
