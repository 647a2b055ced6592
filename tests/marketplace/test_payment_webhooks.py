from datetime import timedelta

import pytest

from marketplace.models import License, Order
from payments.intake.webhooks import sign
from payments.models import LedgerEntry, SellerBalance, SellerTransfer, WebhookEvent
from tests.marketplace.factories import OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


def shapes(payment_id: str, event_type: str = "payment_succeeded") -> dict:
    status = "succeeded" if event_type.endswith("succeeded") else "failed"
    return {
        "flat": {"event_type": event_type, "payment_id": payment_id, "status": status},
        "nested": {
            "event_type": event_type,
            "object": {"payment_id": payment_id, "status": status},
        },
        "envelope": {
            "merchant_id": "merchant_1",
            "event_id": f"evt_{payment_id}",
            "event_type": event_type,
            "content": {
                "type": "payment_details",
                "object": {"payment_id": payment_id, "status": status},
            },
        },
    }


@pytest.mark.parametrize("shape", ["flat", "nested", "envelope"])
def test_payment_succeeded_completes_the_order_in_each_shape(post_webhook, shape, settings):
    settings.PLATFORM_FEE_PERCENT = 10
    first, second = ProductFactory(price=1000), ProductFactory(price=2999)
    order = OrderFactory(products=[first, second])

    response = post_webhook(shapes(order.hyperswitch_payment_id)[shape])

    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert order.refund_deadline == order.completed_at + timedelta(days=14)
    assert License.objects.active().filter(order=order, buyer=order.buyer).count() == 2
    assert SellerBalance.objects.get(seller=first.seller).pending == 900
    assert SellerBalance.objects.get(seller=second.seller).pending == 2700  # 2999 - 299
    transfers = SellerTransfer.objects.filter(order=order)
    assert {(t.seller_id, t.amount, t.status) for t in transfers} == {
        (first.seller_id, 900, "pending"),
        (second.seller_id, 2700, "pending"),
    }


def test_replays_change_nothing(post_webhook):
    order = OrderFactory()
    forms = shapes(order.hyperswitch_payment_id)
    post_webhook(forms["envelope"])
    assert post_webhook(forms["envelope"]).json() == {"status": "duplicate"}
    assert post_webhook(forms["flat"]).json() == {"status": "duplicate"}
    assert LedgerEntry.objects.filter(order=order).count() == 1
    assert License.objects.filter(order=order).count() == 1
    assert WebhookEvent.objects.filter(event_id=f"evt_{order.hyperswitch_payment_id}").count() == 1


def test_payment_failed_fails_a_pending_order(post_webhook):
    order = OrderFactory()
    response = post_webhook(shapes(order.hyperswitch_payment_id, "payment_failed")["nested"])
    assert response.json() == {"status": "processed"}
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert not License.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_unknown_payment_is_200_and_recorded_as_ignored(post_webhook):
    response = post_webhook({"event_type": "payment_succeeded", "payment_id": "pay_nobody"})
    assert response.status_code == 200
    assert WebhookEvent.objects.get(payment_id="pay_nobody").outcome == "ignored"


def test_non_final_payment_event_is_ignored(post_webhook):
    order = OrderFactory()
    response = post_webhook(
        {"event_type": "payment_processing", "payment_id": order.hyperswitch_payment_id}
    )
    assert response.json() == {"status": "ignored"}
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


@pytest.mark.parametrize("tamper", ["one_byte", "wrong_key", "missing", "upper_case", "garbage"])
def test_signature_tampering_is_401_and_stores_nothing(api_client, tamper):
    import json

    order = OrderFactory()
    raw = json.dumps(
        {"event_type": "payment_succeeded", "payment_id": order.hyperswitch_payment_id}
    ).encode()
    signature = sign(raw)
    body = raw
    if tamper == "one_byte":
        body = raw.replace(b"payment_succeeded", b"payment_succeedeD")
    elif tamper == "wrong_key":
        signature = sign(raw, "another-secret-another-secret-0123")
    elif tamper == "upper_case":
        signature = signature.upper()
    elif tamper == "garbage":
        signature = "zz" * 64
    headers = {} if tamper == "missing" else {"HTTP_X_WEBHOOK_SIGNATURE_512": signature}
    response = api_client.generic(
        "POST", "/api/v1/webhooks/hyperswitch", body, content_type="application/json", **headers
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_webhook_signature_failures_are_counted_in_metrics(api_client, post_webhook):
    def failures() -> float:
        text = api_client.get("/metrics").content.decode()
        line = next(
            li for li in text.splitlines() if li.startswith("veza_webhook_signature_failures_total")
        )
        return float(line.split()[-1])

    before = failures()
    post_webhook({"event_type": "payment_succeeded"}, signature="bad")
    post_webhook({"event_type": "payment_succeeded"}, signature="")
    assert failures() == before + 2


def test_metrics_report_orders_refunds_and_webhooks_by_state(api_client, post_webhook):
    order = OrderFactory()
    post_webhook({"event_type": "payment_succeeded", "payment_id": order.hyperswitch_payment_id})
    text = api_client.get("/metrics").content.decode()
    assert 'veza_orders_by_status{status="completed"} 1.0' in text
    assert 'veza_webhook_events_stored{outcome="processed"} 1.0' in text
    assert "veza_refunds_by_status" in text
