import pytest

from marketplace.models import Order
from tests.factories import AdminFactory, UserFactory
from tests.marketplace.factories import OrderFactory, ProductFactory, completed_order

pytestmark = pytest.mark.django_db

URL = "/api/v1/marketplace/orders"


def order_payload(*products, **extra):
    return {"items": [{"product_id": str(p.id)} for p in products], **extra}


def test_order_creates_a_provider_payment_for_the_server_computed_total(psp, client_for, user):
    a, b = ProductFactory(price=1000), ProductFactory(price=2550)
    response = client_for(user).post(
        URL, order_payload(a, b, total_amount=1, price=1), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(pk=body["order"]["id"])
    assert (order.total_amount, order.currency, order.status) == (3550, "EUR", "pending")
    assert body["order"]["total_amount"] == 3550
    assert [i["price"] for i in body["order"]["items"]] == [1000, 2550]
    assert body["payment"]["payment_id"] == order.hyperswitch_payment_id
    assert body["payment"]["client_secret"]
    [call] = psp.calls_to("POST", "/payments")
    assert call.headers["api-key"] == psp.api_key
    assert call.body == {
        "amount": 3550,
        "currency": "EUR",
        "confirm": False,
        "metadata": {"order_id": str(order.id)},
    }


@pytest.mark.parametrize(
    "case",
    ["own", "inactive", "unknown", "mixed_currency", "duplicate", "empty", "malformed", "no_items"],
)
def test_invalid_orders_are_400_and_store_nothing(psp, client_for, case):
    buyer = UserFactory()
    product = ProductFactory()
    payloads = {
        "own": order_payload(ProductFactory(seller=buyer)),
        "inactive": order_payload(ProductFactory(is_active=False)),
        "unknown": {"items": [{"product_id": "00000000-0000-4000-8000-000000000000"}]},
        "mixed_currency": order_payload(product, ProductFactory(currency="USD")),
        "duplicate": order_payload(product, product),
        "empty": {"items": []},
        "malformed": {"items": [{"product_id": "not-a-uuid"}]},
        "no_items": {},
    }
    response = client_for(buyer).post(URL, payloads[case], format="json")
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "invalid_order"}
    assert not Order.objects.exists()
    assert psp.calls == []


@pytest.mark.parametrize("mode", ["refuse", "error", "timeout", "malformed"])
def test_provider_failure_marks_the_order_failed_and_answers_502(psp, client_for, user, mode):
    psp.payment_mode = mode
    response = client_for(user).post(URL, order_payload(ProductFactory()), format="json")
    assert response.status_code == 502
    assert response.json()["code"] == "psp_error"
    order = Order.objects.get()
    assert order.status == Order.Status.FAILED
    assert order.hyperswitch_payment_id is None


def test_orders_are_visible_to_buyer_sellers_and_admins_only(
    client_for, django_assert_max_num_queries
):
    order = completed_order(products=[ProductFactory(), ProductFactory()])
    OrderFactory.create_batch(3)
    seller = order.items.first().seller
    stranger = UserFactory()

    buyer_client, admin_client = client_for(order.buyer), client_for(AdminFactory())
    # user, count, orders, items, refunds (+ their items), disputes: the same for 1 or 100 rows
    with django_assert_max_num_queries(7):
        mine = buyer_client.get(URL).json()
    assert [o["id"] for o in mine["results"]] == [str(order.id)]
    assert client_for(seller).get(URL).json()["count"] == 1
    assert client_for(stranger).get(URL).json()["count"] == 0
    with django_assert_max_num_queries(7):
        assert admin_client.get(URL).json()["count"] == 4

    detail = client_for(seller).get(f"{URL}/{order.id}").json()
    assert set(detail) >= {
        "id",
        "buyer",
        "items",
        "total_amount",
        "currency",
        "status",
        "hyperswitch_payment_id",
        "completed_at",
        "refund_deadline",
        "created_at",
        "refunds",
    }
    assert client_for(stranger).get(f"{URL}/{order.id}").status_code == 404


def test_orders_require_authentication(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(URL, {"items": []}, format="json").status_code == 401
