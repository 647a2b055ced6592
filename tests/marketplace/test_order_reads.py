"""The checkout's reads: GET /orders/{id} and POST /orders's answer are rendered from plain rows
(marketplace/api/order_json.py). They must be OrderOutput's JSON exactly, whatever the order
carries, in a fixed number of statements whatever its size; and the list stays flat."""

import json

import pytest
from django.db.models import Prefetch
from rest_framework.renderers import JSONRenderer

from invoicing.models import Invoice
from invoicing.selectors import invoice_refs_of_orders
from marketplace import selectors
from marketplace.api.serializers import OrderOutput
from marketplace.models import Order, Product
from payments.disputes.selectors import disputes_of_orders
from payments.models import Dispute, Refund
from payments.refunds.selectors import refunds_of_orders
from tests.factories import AdminFactory, CreatorFactory, UserFactory
from tests.hyperswitch.webhook_bodies import dispute_body, signed_post
from tests.marketplace.factories import OrderFactory, ProductFactory, completed_order
from tests.tracks.factories import TrackFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/marketplace/orders"


def serializer_json(order_id, user) -> dict:
    """The order as DRF's OrderOutput renders it (the schema's serializer, read the way the
    viewset read it before the lean path)."""
    order = (
        selectors.orders_for(user)
        .prefetch_related(
            Prefetch("refunds", queryset=refunds_of_orders()),
            Prefetch("disputes", queryset=disputes_of_orders()),
            Prefetch("invoices", queryset=invoice_refs_of_orders()),
        )
        .get(pk=order_id)
    )
    return json.loads(JSONRenderer().render(OrderOutput(order).data))


def refund_items_sorted(body: dict) -> dict:
    # The serializer lists a refund's items in the database's order (the prefetch has none);
    # the lean path in the order's item order. Same items, compared as sets.
    for refund in body["refunds"]:
        refund["items"] = sorted(refund["items"])
    return body


def rich_order(api_client, client_for, post_webhook, psp):
    """A paid order of three products from two sellers (a track product, a pack with its file,
    one without), one item refunded (a credit note), a second refund pending, and a dispute."""
    seller_a, seller_b = CreatorFactory(), CreatorFactory()
    track = TrackFactory(creator=seller_a)
    products = [
        ProductFactory(seller=seller_a, price=1000, product_type=Product.Type.TRACK, track=track),
        ProductFactory(seller=seller_a, price=2000, file="products/x/pack.zip"),
        ProductFactory(seller=seller_b, price=3000, description="Ünïcode — “quoted”"),
    ]
    order = completed_order(products=products)
    buyer = client_for(order.buyer)
    items = list(order.items.order_by("position"))
    first = buyer.post(
        f"{URL}/{order.pk}/refund", {"items": [str(items[0].pk)]}, format="json"
    ).json()["refund"]["id"]
    assert post_webhook({"event_type": "refund_succeeded", "refund_id": first}).status_code == 200
    second = buyer.post(
        f"{URL}/{order.pk}/refund", {"items": [str(items[1].pk), str(items[2].pk)]}, format="json"
    )
    assert second.status_code in (200, 202), second.content
    opened = signed_post(
        api_client,
        dispute_body(
            "dispute_opened",
            dispute_id="dp_reads_0001",
            payment_id=order.hyperswitch_payment_id,
            amount=order.total_amount,
            dispute_stage="pre_dispute",
        ),
    )
    assert opened.status_code == 200, opened.content
    order.refresh_from_db()
    assert Refund.objects.filter(order=order).count() == 2
    assert Dispute.objects.filter(order=order).count() == 1
    assert Invoice.objects.filter(order=order).count() == 2  # the invoice and a credit note
    return order


def test_an_order_detail_is_the_serializers_json_exactly(api_client, client_for, post_webhook, psp):
    order = rich_order(api_client, client_for, post_webhook, psp)
    response = client_for(order.buyer).get(f"{URL}/{order.pk}")
    assert response.status_code == 200
    body = response.json()
    assert refund_items_sorted(body) == refund_items_sorted(serializer_json(order.pk, order.buyer))
    assert [item["product"]["has_file"] for item in body["items"]] == [True, True, False]
    assert body["items"][0]["product"]["track_id"] is not None
    assert [len(refund["items"]) for refund in body["refunds"]] == [2, 1]  # newest first
    assert [doc["kind"] for doc in body["invoices"]] == ["invoice", "credit_note"]
    assert body["disputes"][0]["status"] == "opened"


def test_a_pending_order_without_refunds_disputes_or_documents_renders_alike(client_for):
    order = Order.objects.get(pk=completed_order().pk)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PENDING, completed_at=None)
    response = client_for(order.buyer).get(f"{URL}/{order.pk}")
    assert response.status_code == 200
    assert response.json() == serializer_json(order.pk, order.buyer)
    assert response.json()["completed_at"] is None


def test_an_order_detail_costs_what_it_carries_not_its_size(
    api_client, client_for, post_webhook, psp, django_assert_num_queries
):
    rich = rich_order(api_client, client_for, post_webhook, psp)
    paid = completed_order(products=[ProductFactory(), ProductFactory(), ProductFactory()])
    pending = OrderFactory(products=[ProductFactory(), ProductFactory()])
    # The caller comes from the authentication cache once warm (no statement); the order joined to its items, products and their
    # users, with whether it has refunds, disputes, documents; then one statement for each
    # it has: refunds (joined to their items), disputes, documents.
    for shown, statements in ((rich, 4), (paid, 2), (pending, 1)):
        client = client_for(shown.buyer)
        client.get(f"{URL}/{shown.pk}")  # the session's last use written, as in steady state
        with django_assert_num_queries(statements):
            response = client.get(f"{URL}/{shown.pk}")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == str(shown.pk)
        assert len(body["items"]) == shown.items.count()
        assert refund_items_sorted(body) == refund_items_sorted(
            serializer_json(shown.pk, shown.buyer)
        )


def test_an_order_is_shown_to_its_buyer_its_sellers_and_admins_only(client_for):
    order = completed_order(products=[ProductFactory(), ProductFactory()])
    seller = order.items.order_by("position").last().seller
    expected = serializer_json(order.pk, order.buyer)
    for viewer in (order.buyer, seller, AdminFactory()):
        response = client_for(viewer).get(f"{URL}/{order.pk}")
        assert response.status_code == 200
        assert response.json() == expected
    stranger = client_for(UserFactory())
    assert stranger.get(f"{URL}/{order.pk}").status_code == 404
    unknown = stranger.get(f"{URL}/00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"


def test_an_order_detail_needs_authentication(api_client):
    order = completed_order()
    response = api_client.get(f"{URL}/{order.pk}")
    assert response.status_code == 401


def test_a_placed_orders_answer_is_what_reading_it_back_gives(client_for, psp, user):
    products = [ProductFactory(price=1000), ProductFactory(price=2550, file="products/y/a.zip")]
    client = client_for(user)
    response = client.post(
        URL,
        {"items": [{"product_id": str(p.pk)} for p in products], "billing_country": "de"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(pk=body["order"]["id"])
    assert order.status == Order.Status.PENDING
    assert body["payment"]["payment_id"] == order.hyperswitch_payment_id
    assert body["order"] == serializer_json(order.pk, user)
    assert body["order"] == client.get(f"{URL}/{order.pk}").json()
    assert [item["product"]["id"] for item in body["order"]["items"]] == [
        str(p.pk) for p in products
    ]
    assert body["order"]["tax_country"] == "DE"


def test_a_buyer_may_place_a_second_pending_order_of_the_same_product(client_for, psp, user):
    # What the benchmark's POST /orders load does: one buyer, one product, again and again.
    product = ProductFactory()
    client = client_for(user)
    payload = {"items": [{"product_id": str(product.pk)}]}
    first, second = (client.post(URL, payload, format="json") for _ in range(2))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["order"]["id"] != second.json()["order"]["id"]
    assert Order.objects.filter(buyer=user, status=Order.Status.PENDING).count() == 2


def test_the_order_list_costs_the_same_for_one_order_or_several(
    api_client, client_for, post_webhook, psp, django_assert_num_queries
):
    order = rich_order(api_client, client_for, post_webhook, psp)
    client = client_for(order.buyer)
    client.get(URL)

    # (the caller from the authentication cache) count; page of orders (buyer joined); items (products, sellers joined); refunds;
    # their items; disputes; documents.
    with django_assert_num_queries(7):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == 1

    for _ in range(3):
        paid = completed_order(buyer=order.buyer, products=[ProductFactory(), ProductFactory()])
        client_for(order.buyer).post(f"{URL}/{paid.pk}/refund", {}, format="json")
    with django_assert_num_queries(7):
        response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [len(o["items"]) for o in body["results"]] == [2, 2, 2, 3]
    assert all(o["refunds"] for o in body["results"])
    assert refund_items_sorted(body["results"][-1]) == refund_items_sorted(
        serializer_json(order.pk, order.buyer)
    )
