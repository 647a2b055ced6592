"""What the checkout costs in SQL: the services under POST /orders, and the payment webhook
that completes an order (licences, ledger, transfer, invoice), each statement named."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from invoicing.models import Invoice, InvoiceKind, InvoiceSeries
from marketplace.models import License, Order
from payments.models import LedgerEntry, SellerBalance, SellerTransfer
from tests.marketplace.factories import OrderFactory, ProductFactory, completed_order
from tests.payments.test_webhook_statements import shape

pytestmark = pytest.mark.django_db

# POST /orders with one item, the services' part (before it: the caller's session; after it:
# the answer's reads, the API's business). The provider is called between the transaction's
# end and the UPDATE that records its payment id: outside any transaction.
ORDER_CREATION = [
    "SAVEPOINT",  # BEGIN in production: the order and its items, at once
    "SELECT marketplace_product",  # the products ordered
    "INSERT marketplace_order",  # net, VAT and total frozen
    "INSERT marketplace_orderitem",  # every item, one INSERT
    "INSERT audit_auditlog",  # order.create
    "RELEASE",  # COMMIT in production; then the provider's POST /payments
    "UPDATE marketplace_order",  # its payment id: one statement, no transaction of its own
]

# The completing payment webhook, in production (BEGIN … COMMIT), for a seller who has sold
# before (its balance exists): 17 statements. A seller's first sale adds two (its balance
# inserted, then locked again with the others in primary-key order).
PAYMENT_SUCCEEDED = [
    "UPDATE payments_webhookevent",  # a replay? (no row has this event_id yet)
    "BEGIN",
    "SELECT marketplace_order",  # the order, locked
    "UPDATE marketplace_order",  # → completed, the refund window opens
    "SELECT marketplace_orderitem",  # its items, their products and buyer (invoice, event)
    "INSERT marketplace_license",  # one licence per item
    "INSERT audit_auditlog",  # order.completed
    "INSERT developer_outboxevent",  # order.completed, its parties from the items above
    "INSERT payments_webhookevent",  # the claim, with its outcome
    # The last writes (payments.last_writes): the hot locks for these and the commit only.
    "SELECT payments_sellerbalance",  # the sellers' balances, locked in primary-key order
    "UPDATE payments_sellerbalance",  # the seller's share into pending
    "INSERT payments_ledgerentry",  # sale_credit
    "INSERT payments_sellertransfer",  # one transfer per seller of the order
    "UPDATE invoicing_invoiceseries",  # the invoices' next number: locked, +1, returned
    "INSERT invoicing_invoice",  # the invoice
    "INSERT invoicing_invoiceline",  # its lines
    "COMMIT",
]


def test_post_orders_with_one_item_is_seven_statements_in_its_services(psp, client_for, user):
    product = ProductFactory(price=1000)
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/marketplace/orders",
            {"items": [{"product_id": str(product.id)}]},
            format="json",
        )
    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=response.json()["order"]["id"])
    assert (order.net_amount, order.total_amount, order.status) == (1000, 1000, "pending")
    assert order.hyperswitch_payment_id == response.json()["payment"]["payment_id"]
    shapes = [shape(q["sql"]) for q in queries.captured_queries]
    start = shapes.index("SAVEPOINT")
    assert shapes[start : start + len(ORDER_CREATION)] == ORDER_CREATION, "\n".join(shapes)
    assert "SAVEPOINT" not in shapes[start + 1 :]  # the provider call and after: no transaction


@pytest.mark.django_db(transaction=True)
def test_payment_succeeded_webhook_is_17_statements_with_its_invoice(post_webhook):
    product = ProductFactory(price=1000)
    completed_order(products=[product])  # the seller has sold before: its balance exists
    year = timezone.now().year
    before = InvoiceSeries.objects.get(kind=InvoiceKind.INVOICE, year=year).last_number
    order = OrderFactory(products=[product])

    with CaptureQueriesContext(connection) as queries:
        response = post_webhook(
            {
                "event_id": "evt_pay_statements",
                "event_type": "payment_succeeded",
                "payment_id": order.hyperswitch_payment_id,
            }
        )
    assert response.json() == {"status": "processed"}
    statements = [q["sql"] for q in queries.captured_queries]
    # What follows the COMMIT is the tasks it enqueued, run in the request only because
    # tests run Celery eagerly.
    shapes = [shape(sql) for sql in statements]
    shapes = shapes[: shapes.index("COMMIT") + 1]
    assert shapes == PAYMENT_SUCCEEDED, "\n".join(statements)
    assert len(shapes) == 17

    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert License.objects.filter(order=order, buyer=order.buyer).count() == 1
    seller = product.seller
    assert SellerBalance.objects.get(seller=seller).pending == 2 * 900
    assert LedgerEntry.objects.filter(order=order, kind=LedgerEntry.Kind.SALE_CREDIT).count() == 1
    assert SellerTransfer.objects.get(order=order).amount == 900
    invoice = Invoice.objects.get(order=order, kind=InvoiceKind.INVOICE)
    assert invoice.number == f"VZ-{year}-{before + 1:06d}"  # the next number, no gap
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (1000, 0, 1000)
    assert [line.gross_amount for line in invoice.lines.all()] == [1000]


@pytest.mark.django_db(transaction=True)
def test_a_sellers_first_sale_adds_its_balance(post_webhook):
    # The invoices of the year already numbered (the year's first also inserts its series).
    InvoiceSeries.objects.create(kind=InvoiceKind.INVOICE, year=timezone.now().year)
    order = OrderFactory()
    with CaptureQueriesContext(connection) as queries:
        response = post_webhook(
            {
                "event_id": "evt_pay_first",
                "event_type": "payment_succeeded",
                "payment_id": order.hyperswitch_payment_id,
            }
        )
    assert response.json() == {"status": "processed"}
    shapes = [shape(q["sql"]) for q in queries.captured_queries]
    shapes = shapes[: shapes.index("COMMIT") + 1]
    balance_lock = PAYMENT_SUCCEEDED.index("SELECT payments_sellerbalance")
    assert shapes == [
        *PAYMENT_SUCCEEDED[: balance_lock + 1],
        "INSERT IGNORE" if connection.vendor == "sqlite" else "INSERT payments_sellerbalance",
        "SELECT payments_sellerbalance",
        *PAYMENT_SUCCEEDED[balance_lock + 1 :],
    ]
    assert len(shapes) == 19
    assert SellerBalance.objects.get(seller=order.items.get().seller).pending == 900
