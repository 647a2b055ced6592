"""Races on PostgreSQL, with real threads and their own connections (row locks are real)."""

import json
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from accounts.tokens import issue_tokens
from marketplace.models import Order
from payments.intake.webhooks import sign
from payments.models import LedgerEntry, Refund, SellerBalance, WebhookEvent
from tests.marketplace.factories import OrderFactory, completed_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock races need PostgreSQL (CI runs them there)")


def run_together(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads released at once; return results (or exceptions)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def deliver(payload: dict):
    raw = json.dumps(payload).encode()
    response = Client().post(
        "/api/v1/webhooks/hyperswitch",
        raw,
        content_type="application/json",
        HTTP_X_WEBHOOK_SIGNATURE_512=sign(raw),
    )
    return response.status_code, response.json()


def test_20_concurrent_identical_payment_deliveries_credit_once():
    order = OrderFactory()
    payload = {"event_type": "payment_succeeded", "payment_id": order.hyperswitch_payment_id}

    results = run_together(20, lambda i: deliver(payload))

    assert [status for status, _ in results] == [200] * 20
    assert sorted(body["status"] for _, body in results).count("processed") == 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert LedgerEntry.objects.filter(order=order, kind="sale_credit").count() == 1
    assert SellerBalance.objects.get(seller=order.items.get().seller).pending == 900
    assert order.licenses.count() == 1


def test_20_concurrent_deliveries_of_one_event_id_are_stored_once():
    order = OrderFactory()
    payload = {
        "merchant_id": "m",
        "event_id": "evt_race",
        "event_type": "payment_succeeded",
        "content": {
            "type": "payment_details",
            "object": {"payment_id": order.hyperswitch_payment_id},
        },
    }
    results = run_together(20, lambda i: deliver(payload))
    assert all(status == 200 for status, _ in results), results
    assert WebhookEvent.objects.filter(event_id="evt_race").count() == 1
    assert LedgerEntry.objects.filter(order=order).count() == 1


def test_30_concurrent_identical_succeeded_deliveries_debit_exactly_once(psp):
    order = completed_order()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(order.buyer)['access']}")
    assert client.post(f"/api/v1/marketplace/orders/{order.id}/refund").status_code == 200
    refund = Refund.objects.get(order=order)
    payload = {"event_type": "refund_succeeded", "refund_id": refund.provider_refund_id}

    results = run_together(30, lambda i: deliver(payload))

    assert [status for status, _ in results] == [200] * 30
    assert [body["status"] for _, body in results].count("processed") == 1
    assert LedgerEntry.objects.filter(order=order, kind="refund_debit").count() == 1
    assert SellerBalance.objects.get(seller=order.items.get().seller).pending == 0
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    call_command("check_ledger")


def test_10_concurrent_refund_requests_open_one_refund_and_call_the_provider_once(psp):
    order = completed_order()
    token = issue_tokens(order.buyer)["access"]

    def ask(i):
        response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
            f"/api/v1/marketplace/orders/{order.id}/refund",
            json.dumps({"reason": f"try {i}"}),
            content_type="application/json",
        )
        return response.status_code, response.json()

    results = run_together(10, ask)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [400] * 9, results
    assert {body["code"] for status, body in results if status == 400} == {
        "refund_already_requested"
    }
    assert Refund.objects.filter(order=order).count() == 1
    assert len(psp.calls_to("POST", "/refunds")) == 1


def test_succeeded_and_failed_racing_end_in_one_terminal_state(psp):
    for _ in range(5):
        order = completed_order()
        client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(order.buyer)['access']}")
        client.post(f"/api/v1/marketplace/orders/{order.id}/refund")
        refund = Refund.objects.get(order=order)
        payloads = [
            {"event_type": "refund_succeeded", "refund_id": refund.provider_refund_id},
            {"event_type": "refund_failed", "refund_id": refund.provider_refund_id},
        ]

        results = run_together(2, lambda i, payloads=payloads: deliver(payloads[i]))

        assert sorted(body["status"] for _, body in results) == ["duplicate", "processed"]
        refund.refresh_from_db()
        order.refresh_from_db()
        if refund.status == Refund.Status.SUCCEEDED:
            assert order.status == Order.Status.REFUNDED
            assert LedgerEntry.objects.filter(order=order, kind="refund_debit").count() == 1
        else:
            assert refund.status == Refund.Status.FAILED
            assert order.status == Order.Status.COMPLETED
            assert not LedgerEntry.objects.filter(order=order, kind="refund_debit").exists()
    call_command("check_ledger")


def test_1000_concurrent_deliveries_of_one_refund_event_move_the_ledger_once(psp):
    """A delivery storm of one signed event: 20 threads (gunicorn's 5 workers × 4 threads),
    each with its own connection, deliver it 1,000 times between them, all released at once.
    One delivery applies it; every other is a duplicate counted on the stored event."""
    order = completed_order()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(order.buyer)['access']}")
    assert client.post(f"/api/v1/marketplace/orders/{order.id}/refund").status_code == 200
    refund = Refund.objects.get(order=order)
    raw = json.dumps(
        {
            "merchant_id": "m",
            "event_id": "evt_storm",
            "event_type": "refund_succeeded",
            "content": {
                "type": "refund_details",
                "object": {"refund_id": refund.provider_refund_id, "status": "succeeded"},
            },
        }
    ).encode()
    signature = sign(raw)
    deliveries, threads = 1000, 20

    def deliver_share(i: int) -> list[tuple[int, str]]:
        webhook = Client()
        answers = []
        for _ in range(i, deliveries, threads):
            response = webhook.post(
                "/api/v1/webhooks/hyperswitch",
                raw,
                content_type="application/json",
                HTTP_X_WEBHOOK_SIGNATURE_512=signature,
            )
            answers.append((response.status_code, response.json()["status"]))
        return answers

    started = time.perf_counter()
    results = run_together(threads, deliver_share)
    elapsed = time.perf_counter() - started
    print(f"\n{deliveries} deliveries of one event over {threads} threads: {elapsed:.2f} s")

    assert not [r for r in results if isinstance(r, Exception)], results
    answers = [answer for share in results for answer in share]
    assert len(answers) == deliveries
    assert {status for status, _ in answers} == {200}
    assert [outcome for _, outcome in answers].count("processed") == 1
    assert [outcome for _, outcome in answers].count("duplicate") == deliveries - 1
    event = WebhookEvent.objects.get(event_id="evt_storm")
    assert event.deliveries == deliveries
    assert WebhookEvent.objects.filter(provider_event_id="evt_storm").count() == 1
    assert LedgerEntry.objects.filter(refund=refund).count() == 1
    assert LedgerEntry.objects.filter(order=order, kind="refund_debit").count() == 1
    assert SellerBalance.objects.get(seller=order.items.get().seller).pending == 0
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    call_command("check_ledger")
