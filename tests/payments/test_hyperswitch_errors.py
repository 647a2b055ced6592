"""The provider's own refusals, as Hyperswitch answers them, and what the API makes of them."""

import httpx
import pytest

from marketplace.models import Order
from payments.models import Refund
from payments.refunds.reconcile import reconcile_refunds
from tests.factories import UserFactory
from tests.hyperswitch.webhook_bodies import payment_body, signed_post
from tests.marketplace.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_a_retried_full_refund_is_refused_ir_13_and_the_lookup_settles_it(
    psp, client_for, api_client, settings
):
    buyer = UserFactory()
    product = ProductFactory(price=2500)
    placed = client_for(buyer).post(
        "/api/v1/marketplace/orders", {"items": [{"product_id": str(product.pk)}]}, format="json"
    )
    order = Order.objects.get(pk=placed.json()["order"]["id"])
    paid = payment_body("payment_succeeded", payment_id=order.hyperswitch_payment_id)
    assert signed_post(api_client, paid).status_code == 200
    # The refund reaches the provider but neither the answer nor the lookup comes back.
    psp.refund_mode, psp.get_mode = "timeout_after_create", "timeout"
    opened = client_for(buyer).post(f"/api/v1/marketplace/orders/{order.pk}/refund", {})
    assert opened.status_code == 202
    refund = Refund.objects.get(order=order)
    assert refund.provider_refund_id is None

    # Hyperswitch checks the amount before the id: the first attempt took everything.
    retry = httpx.post(
        f"{psp.url}/refunds",
        headers={"api-key": psp.api_key},
        json={"payment_id": order.hyperswitch_payment_id, "refund_id": str(refund.pk)},
    )
    assert retry.status_code == 400 and retry.json()["error"]["code"] == "IR_13"

    psp.refund_mode, psp.get_mode = "ok", "ok"
    settings.REFUND_RECONCILE_AFTER = 0
    assert reconcile_refunds() == {"still_pending": 1}
    refund.refresh_from_db()
    assert (refund.status, refund.provider_refund_id) == (Refund.Status.PENDING, str(refund.pk))
    resubmitted = psp.calls_to("POST", "/refunds")[-1].body
    assert resubmitted["refund_id"] == str(refund.pk) and resubmitted["amount"] == 2500
