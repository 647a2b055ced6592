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
