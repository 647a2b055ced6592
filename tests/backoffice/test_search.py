"""Staff find rows by the short ids the lists show, and refunds by payment and provider ids."""

import pytest

from payments.models import LedgerEntry, Refund
from tests.backoffice.test_admin_console import staff_client
from tests.marketplace.factories import completed_order

pytestmark = pytest.mark.django_db


def found(client, url: str, term: str) -> set:
    response = client.get(url, {"q": term})
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].queryset}


def test_a_refund_is_found_by_the_short_id_the_list_shows_and_by_every_other_id():
    client, _ = staff_client("Finance")
    order, other = completed_order(), completed_order()
    refund = Refund.objects.create(
        order=order, amount=order.total_amount, currency="EUR", provider_refund_id="ref_abc123"
    )
    Refund.objects.create(order=other, amount=other.total_amount, currency="EUR")
    url = "/admin/payments/refund/"
    short = str(refund.pk)[:8]
    assert short in client.get(url).content.decode()  # what the list shows
    assert found(client, url, short) == {refund.pk}
    assert found(client, url, str(refund.pk)[:13]) == {refund.pk}  # with a dash
    assert found(client, url, str(refund.pk).upper()) == {refund.pk}
    assert found(client, url, str(order.pk)[:8]) == {refund.pk}
    assert found(client, url, order.hyperswitch_payment_id) == {refund.pk}
    assert found(client, url, "ref_abc123") == {refund.pk}
    assert found(client, url, order.buyer.email) == {refund.pk}


def test_orders_and_ledger_entries_are_found_by_short_id():
    client, _ = staff_client("Finance")
    order, other = completed_order(), completed_order()
    assert found(client, "/admin/marketplace/order/", str(order.pk)[:8]) == {order.pk}
    entries = set(LedgerEntry.objects.filter(order=order).values_list("pk", flat=True))
    assert entries
    assert found(client, "/admin/payments/ledgerentry/", str(order.pk)[:8]) == entries
    assert other.pk not in found(client, "/admin/marketplace/order/", str(order.pk)[:8])
