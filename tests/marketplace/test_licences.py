import time

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from marketplace.models import License
from tests.factories import UserFactory
from tests.marketplace.factories import ProductFactory, completed_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def licensed():
    product = ProductFactory()
    product.file.save("kit.wav", ContentFile(b"RIFF\x24\x00\x00\x00WAVEfmt demo"), save=True)
    order = completed_order(products=[product])
    return order.buyer, product, order


def test_licences_list_only_the_callers(client_for, licensed):
    buyer, product, order = licensed
    completed_order()  # someone else's
    body = client_for(buyer).get("/api/v1/marketplace/licenses").json()
    assert body["count"] == 1
    [licence] = body["results"]
    assert (licence["product"]["id"], licence["order_id"], licence["is_active"]) == (
        str(product.id),
        str(order.id),
        True,
    )


def test_licence_holder_gets_a_signed_link_that_streams_the_file(client_for, api_client, licensed):
    buyer, product, _ = licensed
    response = client_for(buyer).get(f"/api/v1/marketplace/download/{product.id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"url", "expires_at"}
    file_response = api_client.get(body["url"].replace("http://testserver", ""))
    assert file_response.status_code == 200
    assert "attachment" in file_response["Content-Disposition"]
    assert b"".join(file_response.streaming_content).startswith(b"RIFF")


def test_no_licence_no_link(client_for, licensed):
    _, product, _ = licensed
    response = client_for(UserFactory()).get(f"/api/v1/marketplace/download/{product.id}")
    assert response.status_code == 403
    assert response.json()["code"] == "no_active_license"


def test_revoked_licence_gets_no_link_and_old_links_stop_working(client_for, api_client, licensed):
    buyer, product, order = licensed
    url = client_for(buyer).get(f"/api/v1/marketplace/download/{product.id}").json()["url"]
    License.objects.filter(order=order).update(revoked_at=timezone.now())
    assert client_for(buyer).get(f"/api/v1/marketplace/download/{product.id}").status_code == 403
    assert api_client.get(url.replace("http://testserver", "")).status_code == 403


def test_tampered_or_expired_links_are_refused(client_for, api_client, licensed, settings):
    buyer, product, _ = licensed
    url = client_for(buyer).get(f"/api/v1/marketplace/download/{product.id}").json()["url"]
    path = url.replace("http://testserver", "")
    assert api_client.get(path[:-3] + "abc").status_code == 403
    settings.SIGNED_DOWNLOAD_TTL_SECONDS = 1
    time.sleep(2)
    response = api_client.get(path)
    assert response.status_code == 403
    assert "expired" in response.json()["detail"]


def test_seller_balance_and_transfers_are_the_callers(client_for, licensed):
    _, product, order = licensed
    seller_client = client_for(product.seller)
    balance = seller_client.get("/api/v1/marketplace/seller/balance").json()
    assert (balance["pending"], balance["available"], balance["currency"]) == (900, 0, "EUR")
    transfers = seller_client.get("/api/v1/marketplace/seller/transfers").json()
    assert [(t["order_id"], t["amount"], t["status"]) for t in transfers["results"]] == [
        (str(order.id), 900, "pending")
    ]
    other = client_for(UserFactory())
    assert other.get("/api/v1/marketplace/seller/balance").json()["pending"] == 0
    assert other.get("/api/v1/marketplace/seller/transfers").json()["count"] == 0
