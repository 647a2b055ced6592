"""GET /invoices: the buyer's documents in a fixed number of statements, whatever their
number or their lines (no query per invoice)."""

import pytest

from invoicing.models import Invoice
from tests.invoicing.factories import pay, vat_order

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices"


def test_the_invoice_list_costs_three_statements_for_one_invoice_or_several(
    post_webhook, client_for, django_assert_num_queries
):
    first = vat_order(prices=(1000, 2550), rate="19", country="DE")
    pay(post_webhook, first)
    client = client_for(first.buyer)
    client.get(URL)  # the session's last use written, as in steady state

    # (the caller from the authentication cache) count; the page of invoices; their lines.
    with django_assert_num_queries(3):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == 1

    for prices in ((500,), (700, 800, 900), (1200, 1300)):
        pay(post_webhook, vat_order(prices=prices, buyer=first.buyer))
    with django_assert_num_queries(3):
        response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [len(doc["lines"]) for doc in body["results"]] == [2, 3, 1, 2]
    numbers = list(
        Invoice.objects.filter(order__buyer=first.buyer)
        .order_by("-issued_at", "-number")
        .values_list("number", flat=True)
    )
    assert [doc["number"] for doc in body["results"]] == numbers
    assert {doc["order_id"] for doc in body["results"]} >= {str(first.pk)}
