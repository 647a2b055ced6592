"""Item-level refunds: amounts, licences, debits, statuses and the provider's request body."""

import threading

import pytest
from django.core.management import call_command
from django.db import connections

from marketplace.models import License, Order, OrderItem
from payments.models import LedgerEntry, Refund, RefundItem, SellerBalance, SellerTransfer
from tests.factories import CreatorFactory
from tests.marketplace.factories import ProductFactory, completed_order

pytestmark = pytest.mark.django_db


def three_item_order():
    seller_a, seller_b = CreatorFactory(), CreatorFactory()
    products = [
        ProductFactory(seller=seller_a, price=1000),
        ProductFactory(seller=seller_a, price=2000),
        ProductFactory(seller=seller_b, price=3000),
    ]
    order = completed_order(products=products)
    items = list(order.items.order_by("position"))
    return order, items, seller_a, seller_b


def refund(client, order, items=None, reason="one licence back"):
    body = {"reason": reason}
    if items is not None:
        body["items"] = [str(i.pk) for i in items]
    return client.post(f"/api/v1/marketplace/orders/{order.pk}/refund", body, format="json")


def succeed(post_webhook, refund_id):
    response = post_webhook({"event_type": "refund_succeeded", "refund_id": str(refund_id)})
    assert response.status_code == 200
    return response


def test_refunding_one_item_of_three_refunds_only_that_item(psp, client_for, post_webhook):
    order, items, seller_a, seller_b = three_item_order()

    response = refund(client_for(order.buyer), order, [items[1]])

    assert response.status_code == 200, response.content
    body = response.json()["refund"]
    assert (body["amount"], body["items"]) == (2000, [str(items[1].pk)])
    (call,) = psp.calls_to("POST", "/refunds")
    assert call.body["amount"] == 2000
    assert set(call.body) == {"payment_id", "refund_id", "amount", "reason", "metadata"}

    succeed(post_webhook, body["id"])

    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    assert order.refunded_amount == 2000
    assert [i.refunded for i in order.items.order_by("position")] == [False, True, False]
    active = set(License.objects.active().filter(order=order).values_list("product", flat=True))
    assert active == {items[0].product_id, items[2].product_id}
    # seller A is debited 90% of 2000 from pending; seller B is untouched
    assert SellerBalance.objects.get(seller=seller_a).pending == 900 + 1800 - 1800
    assert SellerBalance.objects.get(seller=seller_b).pending == 2700
    debit = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND_DEBIT)
    assert (debit.seller_id, debit.applied_amount) == (seller_a.pk, -1800)
    transfer = SellerTransfer.objects.get(order=order, seller=seller_a)
    assert (transfer.amount, transfer.status) == (900, SellerTransfer.Status.PENDING)
    detail = client_for(order.buyer).get(f"/api/v1/marketplace/orders/{order.pk}").json()
    assert detail["refunded_amount"] == 2000
    assert [i["refunded"] for i in detail["items"]] == [False, True, False]
    assert detail["refunds"][0]["items"] == [str(items[1].pk)]


def test_a_second_partial_then_a_full_refund_take_the_rest(psp, client_for, post_webhook):
    order, items, seller_a, seller_b = three_item_order()
    buyer = client_for(order.buyer)
    succeed(post_webhook, refund(buyer, order, [items[0]]).json()["refund"]["id"])
    second = refund(buyer, order, [items[2]])
    assert second.status_code == 200
    succeed(post_webhook, second.json()["refund"]["id"])
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.PARTIALLY_REFUNDED, 4000)

    rest = refund(buyer, order)  # no items: every item not yet refunded
    assert rest.json()["refund"]["items"] == [str(items[1].pk)]
    assert rest.json()["refund"]["amount"] == 2000
    succeed(post_webhook, rest.json()["refund"]["id"])

    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.REFUNDED, 6000)
    assert not License.objects.active().filter(order=order).exists()
    assert SellerBalance.objects.get(seller=seller_a).pending == 0
    assert SellerBalance.objects.get(seller=seller_b).pending == 0
    assert set(SellerTransfer.objects.filter(order=order).values_list("status", flat=True)) == {
        SellerTransfer.Status.REVERSED
    }
    again = refund(buyer, order)
    assert again.status_code == 400
    assert again.json()["code"] == "order_not_refundable"
    call_command("check_ledger")


def test_unknown_foreign_or_refunded_items_are_refused_and_change_nothing(
    psp, client_for, post_webhook
):
    order, items, seller_a, seller_b = three_item_order()
    other, other_items, *_ = three_item_order()
    buyer = client_for(order.buyer)
    for bad in ([other_items[0]], [items[0], items[0]]):
        response = refund(buyer, order, bad)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_refund_items"
    response = buyer.post(
        f"/api/v1/marketplace/orders/{order.pk}/refund",
        {"items": ["00000000-0000-4000-8000-000000000000"]},
        format="json",
    )
    assert response.json()["code"] == "invalid_refund_items"
    # a seller may only name its own items
    response = refund(client_for(seller_b), order, [items[0]])
    assert (response.status_code, response.json()["code"]) == (400, "invalid_refund_items")
    assert not Refund.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED

    succeed(post_webhook, refund(buyer, order, [items[0]]).json()["refund"]["id"])
    response = refund(buyer, order, [items[0]])
    assert (response.status_code, response.json()["code"]) == (400, "invalid_refund_items")


def test_a_seller_without_items_refunds_its_own_items_only(psp, client_for, post_webhook):
    order, items, seller_a, seller_b = three_item_order()
    response = refund(client_for(seller_b), order)
    assert response.status_code == 200
    assert response.json()["refund"]["items"] == [str(items[2].pk)]
    assert response.json()["refund"]["amount"] == 3000


def test_a_failed_partial_refund_restores_the_order_exactly(psp, client_for, post_webhook):
    order, items, *_ = three_item_order()
    buyer = client_for(order.buyer)
    succeed(post_webhook, refund(buyer, order, [items[0]]).json()["refund"]["id"])
    second = refund(buyer, order, [items[1]]).json()["refund"]["id"]
    post_webhook({"event_type": "refund_failed", "refund_id": second, "error_message": "no"})
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (Order.Status.PARTIALLY_REFUNDED, 1000)
    assert not OrderItem.objects.get(pk=items[1].pk).refunded
    assert RefundItem.objects.get(refund_id=second).active is False
    # the item can be refunded again
    assert refund(buyer, order, [items[1]]).status_code == 200


def _in_thread(fn):
    result = {}

    def run():
        try:
            result["value"] = fn()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    return thread, result


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_item", [True, False])
def test_concurrent_partial_refunds_never_exceed_the_total(
    psp, client_for, post_webhook, settings, same_item
):
    if not settings.IS_POSTGRES:
        pytest.skip("row-lock races need PostgreSQL (CI runs them there)")
    order, items, *_ = three_item_order()
    picks = [[items[0]], [items[0]]] if same_item else [[items[0]], [items[1]]]
    clients = [client_for(order.buyer), client_for(order.buyer)]
    barrier = threading.Barrier(2)
    threads = []
    for client, pick in zip(clients, picks, strict=True):

        def call(client=client, pick=pick):
            barrier.wait()
            return refund(client, order, pick)

        threads.append(_in_thread(call))
    for thread, _ in threads:
        thread.start()
    for thread, _ in threads:
        thread.join()
    codes = sorted(result["value"].status_code for _, result in threads)
    # one pending refund per order: exactly one wins, the other is told one is in progress
    assert codes == [200, 400]
    assert Refund.objects.filter(order=order).count() == 1
    winner = Refund.objects.get(order=order)
    succeed(post_webhook, winner.pk)
    order.refresh_from_db()
    assert order.refunded_amount == winner.amount <= order.total_amount
