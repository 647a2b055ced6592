"""The gapless series under concurrent completions, on PostgreSQL (real row locks)."""

import pytest
from django.db import connection
from django.utils import timezone

from invoicing.models import Invoice, InvoiceSeries
from marketplace.models import Order
from tests.invoicing.factories import vat_order
from tests.payments.test_concurrency import deliver, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock races need PostgreSQL (CI runs them there)")


def test_50_orders_completed_concurrently_get_50_consecutive_numbers():
    year = timezone.now().year
    orders = [vat_order() for _ in range(50)]

    results = run_together(
        50,
        lambda i: deliver(
            {"event_type": "payment_succeeded", "payment_id": orders[i].hyperswitch_payment_id}
        ),
    )

    assert [status for status, _ in results] == [200] * 50, results
    assert Order.objects.filter(status=Order.Status.COMPLETED).count() == 50
    invoices = list(Invoice.objects.order_by("issued_at", "number"))
    assert len({invoice.order_id for invoice in invoices}) == 50
    numbers = sorted(invoice.number for invoice in invoices)
    assert numbers == [f"VZ-{year}-{n:06d}" for n in range(1, 51)]  # no gap, no duplicate
    # Issue order is number order: a later number is never issued before an earlier one.
    assert [invoice.number for invoice in invoices] == numbers
    assert InvoiceSeries.objects.get(kind="invoice", year=year).last_number == 50
