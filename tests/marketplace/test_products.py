import pytest

from marketplace.models import Product
from tests.factories import AdminFactory, CreatorFactory, UserFactory
from tests.marketplace.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/marketplace/products"
VALID = {
    "title": "Drum kit",
    "description": "808s",
    "price": 1999,
    "currency": "EUR",
    "product_type": "sample",
}


def test_creator_creates_a_product_as_its_seller(client_for, creator):
    response = client_for(creator).post(URL, VALID, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["seller"] == {"id": str(creator.id), "username": creator.username}
    assert (body["price"], body["currency"], body["is_active"]) == (1999, "EUR", True)
    product = Product.objects.get(pk=body["id"])
    assert product.seller == creator


def test_plain_user_cannot_sell_unless_bypassed(client_for, user, settings):
    assert client_for(user).post(URL, VALID, format="json").status_code == 403
    settings.BYPASS_CONTENT_CREATOR_ROLE = True
    assert client_for(user).post(URL, VALID, format="json").status_code == 201


def test_anonymous_cannot_sell(api_client):
    assert api_client.post(URL, VALID, format="json").status_code == 401
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    "override",
    [
        {"price": 19.99},
        {"price": "cheap"},
        {"price": -5},
        {"price": 0},
        {"currency": "eur"},
        {"currency": "EURO"},
        {"product_type": "bundle"},
        {"title": ""},
    ],
)
def test_invalid_product_is_rejected(client_for, creator, override):
    response = client_for(creator).post(URL, {**VALID, **override}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Product.objects.exists()


def test_track_must_be_ones_own(client_for, creator):
    from tests.tracks.factories import TrackFactory

    mine, theirs = TrackFactory(creator=creator), TrackFactory()
    ok = client_for(creator).post(URL, {**VALID, "track_id": str(mine.id)}, format="json")
    assert ok.status_code == 201
    assert ok.json()["track_id"] == str(mine.id)
    refused = client_for(creator).post(URL, {**VALID, "track_id": str(theirs.id)}, format="json")
    assert refused.status_code == 400
    assert "track_id" in refused.json()


def test_list_shows_active_products_with_filters(api_client, django_assert_max_num_queries):
    seller = CreatorFactory(username="beatsmith")
    ProductFactory.create_batch(3, seller=seller, product_type="pack")
    ProductFactory(product_type="sample", title="Vocal chops")
    ProductFactory(is_active=False)
    with django_assert_max_num_queries(3):
        body = api_client.get(URL).json()
    assert body["count"] == 4
    assert set(body) == {"count", "next", "previous", "results"}
    assert api_client.get(f"{URL}?product_type=sample").json()["count"] == 1
    assert api_client.get(f"{URL}?seller=beatsmith").json()["count"] == 3
    assert api_client.get(f"{URL}?seller={seller.id}").json()["count"] == 3
    assert api_client.get(f"{URL}?q=vocal").json()["count"] == 1
    assert api_client.get(f"{URL}?product_type=nonsense").status_code == 400


def test_page_size_is_capped_at_100(api_client):
    ProductFactory.create_batch(101)
    body = api_client.get(f"{URL}?page_size=1000").json()
    assert body["count"] == 101
    assert len(body["results"]) == 100
    assert body["next"] is not None


def test_seller_and_admin_update_others_cannot(client_for):
    product = ProductFactory()
    url = f"{URL}/{product.id}"
    assert client_for(UserFactory()).patch(url, {"price": 1}, format="json").status_code == 403
    assert (
        client_for(product.seller).patch(url, {"price": 2500}, format="json").json()["price"]
        == 2500
    )
    assert (
        client_for(AdminFactory()).patch(url, {"title": "Renamed"}, format="json").status_code
        == 200
    )
    product.refresh_from_db()
    assert (product.price, product.title) == (2500, "Renamed")


def test_delete_deactivates_the_product(client_for, api_client):
    product = ProductFactory()
    assert client_for(UserFactory()).delete(f"{URL}/{product.id}").status_code == 403
    assert client_for(product.seller).delete(f"{URL}/{product.id}").status_code == 204
    product.refresh_from_db()
    assert product.is_active is False
    assert api_client.get(URL).json()["count"] == 0
    assert api_client.get(f"{URL}/{product.id}").status_code == 404
    assert client_for(product.seller).get(f"{URL}/{product.id}").status_code == 200
