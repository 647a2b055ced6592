"""The order page: a "Refund…" button, links to everything about the order, exact money."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.models import Order
from payments.models import Refund
from tests.backoffice.test_admin_console import staff_client
from tests.marketplace.factories import ProductFactory, completed_order

pytestmark = pytest.mark.django_db


def three_item_order() -> Order:
    return completed_order(
        products=[ProductFactory(price=1000), ProductFactory(price=2500), ProductFactory(price=499)]
    )


def test_the_order_page_links_to_its_refunds_disputes_licences_and_ledger():
    client, _ = staff_client("Finance")
    order = three_item_order()
    page = client.get(f"/admin/marketplace/order/{order.pk}/change/").content.decode()
    assert f"/admin/marketplace/order/{order.pk}/refund/" in page and "Refund…" in page
    for changelist in ("payments/refund", "payments/dispute", "marketplace/license"):
        assert f"/admin/{changelist}/?order__id__exact={order.pk}" in page
    assert f"/admin/payments/ledgerentry/?order__id__exact={order.pk}" in page
    assert "€39.99" in page and "€25.00" in page  # the total and an item, never minor units
    assert client.get(f"/admin/payments/refund/?order__id__exact={order.pk}").status_code == 200


def test_staff_refund_two_items_from_the_order_page(psp):
    client, staff = staff_client("Support")
    order = three_item_order()
    first, second, _ = order.items.order_by("position")
    url = f"/admin/marketplace/order/{order.pk}/refund/"
    form = client.get(url)
    assert form.status_code == 200
    assert "override_window_reason" not in form.content.decode()  # Support may not use it

    response = client.post(
        url,
        {"confirm": "yes", "reason": "Wrong files", "items": [str(first.pk), str(second.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.status, refund.requested_by) == (3500, "pending", staff)
    assert set(refund.refund_items.values_list("order_item", flat=True)) == {first.pk, second.pk}
    page = response.content.decode()
    assert "pending — waiting for the provider" in page
    assert f"/admin/payments/refund/{refund.pk}/change/" in page
    order.refresh_from_db()
    assert order.status == Order.Status.REFUND_PENDING


def test_a_passed_window_is_explained_to_support_and_to_finance():
    order = three_item_order()
    Order.objects.filter(pk=order.pk).update(refund_deadline=timezone.now() - timedelta(days=1))
    url = f"/admin/marketplace/order/{order.pk}/refund/"
    support, _ = staff_client("Support")
    assert "Only Finance may refund after the window" in support.get(url).content.decode()
    finance, _ = staff_client("Finance")
    page = finance.get(url).content.decode()
    assert "override_window_reason" in page and "give an override reason" in page


def test_the_auditor_has_no_refund_button():
    client, _ = staff_client("Auditor")
    order = three_item_order()
    page = client.get(f"/admin/marketplace/order/{order.pk}/change/").content.decode()
    assert "Refund…" not in page
    assert client.get(f"/admin/marketplace/order/{order.pk}/refund/").status_code == 403
    assert not Refund.objects.exists()
