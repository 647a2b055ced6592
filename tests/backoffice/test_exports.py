"""CSV exports: streamed, every row of the current filters, totals per currency, audited."""

import csv
import io

import pytest

from audit.admin_export import cells_of_instance
from audit.models import AuditLog
from payments.models import LedgerEntry, Refund
from tests.backoffice.test_admin_console import staff_client
from tests.marketplace.factories import ProductFactory, completed_order

pytestmark = pytest.mark.django_db


def exported(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_ledger_entries_export_respects_filters_totals_per_currency_and_is_audited():
    client, finance = staff_client("Finance")
    completed_order(products=[ProductFactory(price=1000)])
    completed_order(products=[ProductFactory(price=2500)])
    credits = LedgerEntry.objects.filter(kind="sale_credit")
    assert credits.count() == 2
    listing = client.get("/admin/payments/ledgerentry/").content.decode()
    assert "/admin/payments/ledgerentry/export.csv" in listing

    rows = exported(client.get("/admin/payments/ledgerentry/export.csv?kind__exact=sale_credit"))

    header, *lines, total = rows
    assert header[:5] == ["created_at", "entry_id", "seller", "kind", "currency"]
    assert len(lines) == 2 and {line[3] for line in lines} == {"sale_credit"}
    applied = header.index("applied")
    expected = sum(e.applied_amount for e in credits) / 100
    assert total[0] == "TOTAL" and total[4] == "EUR"
    assert float(total[applied]) == expected
    entry = AuditLog.objects.get(action="admin.export", target_type="payments.ledgerentry")
    assert entry.actor == finance and entry.actor_groups == "Finance"
    assert entry.details["rows"] == 2 and entry.details["filters"] == {"kind__exact": "sale_credit"}


def test_refunds_export_shows_exact_amounts():
    client, _ = staff_client("Finance")
    order = completed_order(products=[ProductFactory(price=4999)])
    Refund.objects.create(order=order, amount=4999, currency="EUR")
    header, line, total = exported(client.get("/admin/payments/refund/export.csv"))
    assert line[header.index("amount")] == "49.99"
    assert line[header.index("amount_minor")] == "4999"
    assert total[header.index("amount")] == "49.99"


def test_support_cannot_export_the_ledger():
    client, _ = staff_client("Support")
    assert client.get("/admin/payments/ledgerentry/export.csv").status_code == 403
    assert AuditLog.objects.filter(action="admin.refused").exists()


@pytest.mark.parametrize("model_name", ["refund", "ledgerentry", "payout"])
def test_exports_read_as_values_give_the_same_cells_as_the_model_rows(model_name, psp):
    """The export reads plain values (for speed); every cell must match the model's."""
    from django.contrib import admin

    from payments.models import Payout
    from tests.factories import CreatorFactory
    from tests.payments.payout_helpers import released, with_method

    client, finance = staff_client("Finance")
    order = completed_order(products=[ProductFactory(price=4999)])
    Refund.objects.create(order=order, amount=4999, currency="EUR", requested_by=finance)
    other = completed_order(products=[ProductFactory(price=1000)])
    Refund.objects.create(order=other, amount=1000, currency="EUR", status="failed")
    seller = CreatorFactory()
    with_method(seller)
    released(seller, price=2000)
    from payments.payouts.services import run_payouts

    run_payouts()
    model = {"refund": Refund, "ledgerentry": LedgerEntry, "payout": Payout}[model_name]
    model_admin = admin.site._registry[model]

    rows = exported(client.get(f"/admin/payments/{model_name}/export.csv"))

    header, *lines = rows
    columns = model_admin.export_columns
    assert header == [column.header for column in columns]
    by_model = [cells_of_instance(columns, obj) for obj in model.objects.all()]
    body = [line for line in lines if line[0] != "TOTAL"]
    assert by_model
    assert sorted(body) == sorted(by_model)


@pytest.fixture
def _platform(settings):
    settings.INVOICE_PREFIX = "VZ"
    settings.PLATFORM_LEGAL_NAME = "Veza SAS"
    settings.PLATFORM_ADDRESS = "1 place de la Bourse, 75002 Paris, France"
    settings.PLATFORM_VAT_NUMBER = "FR40303265045"


def invoices(*prices: int, currency: str = "EUR") -> list:
    from invoicing.services import issue_invoice

    return [
        issue_invoice(
            order=completed_order(
                products=[ProductFactory(price=p, currency=currency)], currency=currency
            )
        )
        for p in prices
    ]


def export_statements(client, url: str) -> tuple[list[str], object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        body = b"".join(response.streaming_content).decode()
    return [q["sql"] for q in queries.captured_queries], (response, body)


@pytest.mark.usefixtures("_platform")
def test_invoice_export_lists_a_period_with_totals_per_currency_and_is_audited():
    from datetime import timedelta

    from django.utils import timezone

    client, finance = staff_client("Finance")
    first, second = invoices(1000, 2500)
    (dollars,) = invoices(700, currency="USD")
    listing = client.get("/admin/invoicing/invoice/").content.decode()
    assert "/admin/invoicing/invoice/export.csv" in listing
    start = (timezone.now() - timedelta(days=1)).date().isoformat()
    end = (timezone.now() + timedelta(days=1)).date().isoformat()
    later = (timezone.now() + timedelta(days=2)).date().isoformat()
    empty = client.get(
        "/admin/invoicing/invoice/export.csv", {"issued_at__gte": end, "issued_at__lt": later}
    )
    assert len(exported(empty)) == 1  # the header: nothing was issued in that period

    response = client.get(
        "/admin/invoicing/invoice/export.csv", {"issued_at__gte": start, "issued_at__lt": end}
    )

    header, *lines, eur_total, usd_total = exported(response)
    assert header[:4] == ["number", "kind", "issued_at", "order_id"]
    assert {line[0] for line in lines} == {first.number, second.number, dollars.number}
    row = next(line for line in lines if line[0] == first.number)
    assert row[header.index("buyer_email")] == first.buyer["email"]
    assert row[header.index("gross")] == f"{first.gross_total / 100:.2f}"
    assert row[header.index("gross_minor")] == str(first.gross_total)
    assert row[header.index("issued_at")] == first.issued_at.isoformat()
    net, vat, gross = (header.index(h) for h in ("net", "vat", "gross"))
    eur = [first, second]
    assert eur_total[0] == "TOTAL" and eur_total[header.index("currency")] == "EUR"
    assert eur_total[net] == f"{sum(i.net_total for i in eur) / 100:.2f}"
    assert eur_total[vat] == f"{sum(i.vat_total for i in eur) / 100:.2f}"
    assert eur_total[gross] == f"{sum(i.gross_total for i in eur) / 100:.2f}"
    assert usd_total[header.index("currency")] == "USD"
    assert usd_total[gross] == f"{dollars.gross_total / 100:.2f}"
    entry = AuditLog.objects.filter(action="admin.export", target_type="invoicing.invoice")
    assert [e.details["rows"] for e in entry.order_by("created_at")] == [0, 3]
    assert entry.first().actor == finance


@pytest.mark.usefixtures("_platform")
def test_invoice_export_cells_equal_the_documents():
    from django.contrib import admin

    from audit.admin_export import cells_of_instance
    from invoicing.models import Invoice

    client, _ = staff_client("Finance")
    invoices(1000, 4999)
    invoices(700, currency="JPY")
    model_admin = admin.site._registry[Invoice]
    header, *lines = exported(client.get("/admin/invoicing/invoice/export.csv"))
    body = [line for line in lines if line[0] != "TOTAL"]
    expected = [cells_of_instance(model_admin.export_columns, i) for i in Invoice.objects.all()]
    assert len(body) == 3 and sorted(body) == sorted(expected)


# (SQLite, PostgreSQL): the index-skipping value filters are PostgreSQL's.
EXPORT_STATEMENTS = {
    "/admin/invoicing/invoice/export.csv": (12, 16),
    "/admin/payments/ledgerentry/export.csv": (16, 16),
}


@pytest.mark.usefixtures("_platform")
@pytest.mark.parametrize(
    "url", ["/admin/invoicing/invoice/export.csv", "/admin/payments/ledgerentry/export.csv"]
)
def test_an_export_streams_in_a_number_of_statements_that_does_not_grow_with_rows(url):
    from django.db import connection
    from django.http import StreamingHttpResponse

    client, _ = staff_client("Finance")
    invoices(1000, 2000)
    few, (response, body) = export_statements(client, url)
    assert isinstance(response, StreamingHttpResponse)
    rows_few = body.count("\n")
    invoices(*range(100, 1600, 100))
    many, (_, body) = export_statements(client, url)
    assert body.count("\n") > rows_few + 10
    assert len(many) == len(few), "\n".join(many)
    # session, user, permissions (2), the list's filter choices and bounded count (the
    # changelist's filters and search), the count for the audit entry, the actor's groups,
    # the audit entry, then in one transaction the rows and the totals (on PostgreSQL the
    # rows are one COPY … TO STDOUT, whatever their number).
    expected = EXPORT_STATEMENTS[url][connection.vendor == "postgresql"]
    assert len(many) == expected, "\n".join(many)
    if connection.vendor == "postgresql":
        assert sum(sql.startswith("COPY (SELECT ") for sql in many) == 1


@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY", "KWD", "BHD", "CLF", "eur"])
def test_money_cells_are_the_exact_decimal_amount(currency):
    from audit.admin_export import major_text
    from veza.money import to_major

    for amount in [0, 1, 5, 9, 10, 99, 100, 101, 4999, -1, -5, -100, -4999, 10**12 + 7, -(10**15)]:
        assert major_text(amount, currency) == str(to_major(amount, currency)), amount
